import type { Keypair } from '../../src/crypto/index.ts';
import { carBytes } from '../../src/ipld/car.ts';
import { cidToString, parseCid } from '../../src/ipld/cid.ts';
import { MemoryBlockStore } from '../../src/repo/block-store.ts';
import { applyWriteBatch, type WriteBatchResult } from '../../src/repo/write-batch.ts';

const S32 = '234567abcdefghijklmnopqrstuvwxyz';

/** A valid TID record key, distinct for each `n` and ordered by it. */
export function tid(n: number): string {
  let out = '';
  for (let i = 0; i < 11; i++, n = Math.floor(n / 32)) out = S32[n % 32] + out;
  return `3l${out}`;
}

/**
 * A repo of `count` posts for `did`, signed with `keypair`, built in memory by the write path in
 * batches of 1,000 (as many commits), exported as a CAR with only its current blocks.
 */
export async function buildRepoCar(did: string, keypair: Keypair, count: number): Promise<{ car: Uint8Array; root: string; blocks: number }> {
  const store = new MemoryBlockStore();
  let head: WriteBatchResult | null = null;
  for (let start = 0; start < count || head === null; start += 1000) {
    const writes = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      writes.push({
        action: 'create' as const,
        collection: 'app.bsky.feed.post',
        rkey: tid(i),
        record: { $type: 'app.bsky.feed.post', text: `post ${i}: a line of text of about the length people write`, createdAt: new Date(1_700_000_000_000 + i * 1000).toISOString() },
      });
    }
    const result: WriteBatchResult = await applyWriteBatch({ did, keypair, prev: head && { cid: head.cid, rev: head.rev, data: head.commit.data }, blocks: store, writes });
    store.putMany(result.newBlocks, result.rev);
    store.deleteMany(result.orphaned);
    head = result;
  }
  const car = await carBytes(head.cid, [...store.entries()].map(([cid, bytes]) => ({ cid: parseCid(cid), bytes })));
  return { car, root: cidToString(head.cid), blocks: store.size };
}
