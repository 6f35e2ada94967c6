import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBlockstore, Repo, WriteOpAction, type RecordWriteOp } from '@atproto/repo';
import { Secp256k1Keypair } from '@atproto/crypto';
import { generateKeypair, type Keypair } from '../crypto/index.ts';
import { encodeCbor } from '../ipld/cbor.ts';
import { carBytesSync } from '../ipld/car.ts';
import { cidForCbor, cidToString, parseCid, type Cid } from '../ipld/cid.ts';
import { Mst, NodeCache } from '../ipld/mst/index.ts';
import { random } from '../ipld/mst/test-helpers.ts';
import { MemoryBlockStore } from './block-store.ts';
import { decodeCommit, verifyCommitSignature } from './commit.ts';
import { InvalidWriteError, RecordExistsError, RecordNotFoundError } from './errors.ts';
import { verifyCommitProof } from './verify.ts';
import { applyWriteBatch, type RecordWrite, type WriteBatchResult } from './write-batch.ts';

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const EMPTY_ROOT = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
const post = (text: string) => ({ $type: 'app.bsky.feed.post', text, createdAt: '2024-01-01T00:00:00.000Z' });

/** A repo as the write path keeps it: blocks, current commit, and a record index (path → CID). */
class TestRepo {
  readonly store = new MemoryBlockStore();
  readonly index = new Map<string, string>();
  readonly cache = new NodeCache();
  head: { cid: Cid; rev: string; data: Cid } | null = null;
  constructor(
    readonly keypair: Keypair,
    readonly useIndex = true,
  ) {}

  async apply(writes: RecordWrite[]): Promise<WriteBatchResult> {
    const result = await applyWriteBatch({
      did,
      keypair: this.keypair,
      prev: this.head,
      blocks: this.store,
      writes,
      cache: this.cache,
      recordRefs: this.useIndex ? (cid) => [...this.index.values()].filter((c) => c === cid).length : undefined,
    });
    this.store.putMany(result.newBlocks, result.rev);
    this.store.deleteMany(result.orphaned);
    for (const op of result.ops) {
      if (op.cid === null) this.index.delete(op.path);
      else this.index.set(op.path, cidToString(op.cid));
    }
    this.head = { cid: result.cid, rev: result.rev, data: result.commit.data };
    return result;
  }

  /** Every block reachable from the head: what the store must hold, no more and no less. */
  reachable(): Set<string> {
    const out = new Set<string>([cidToString(this.head!.cid)]);
    for (const block of Mst.load(this.store, this.head!.data).blocks()) out.add(block.cid.$link);
    return out;
  }
}

function firehoseCar(result: WriteBatchResult): Uint8Array {
  return carBytesSync(result.cid, result.firehoseBlocks.values());
}

async function relayCheck(result: WriteBatchResult, keypair: Keypair): Promise<void> {
  await verifyCommitProof(
    { commit: result.cid, blocks: firehoseCar(result), ops: result.ops, prevData: result.prevData, rev: result.rev },
    { did, didKey: keypair.did() },
  );
}

describe('write batches', () => {
  it('the first commit of an empty repo stores the empty tree and a signed commit', async () => {
    const keypair = await generateKeypair('ES256K');
    const repo = new TestRepo(keypair);
    const result = await repo.apply([]);
    assert.equal(cidToString(result.commit.data), EMPTY_ROOT);
    assert.deepEqual(new Set(result.newBlocks.keys()), new Set([cidToString(result.cid), EMPTY_ROOT]));
    assert.equal(result.prevData, null);
    assert.equal(result.since, null);
    assert.deepEqual(result.orphaned, new Set());
    assert.equal(await verifyCommitSignature(decodeCommit(result.bytes), keypair.did()), true);
    await relayCheck(result, keypair);
  });

  it('creates, updates and deletes records, with ops carrying the previous CIDs', async () => {
    const keypair = await generateKeypair('ES256');
    const repo = new TestRepo(keypair);
    const first = await repo.apply([
      { action: 'create', collection: 'app.bsky.feed.post', rkey: '3l4aaaaaaaaa2', record: post('one') },
      { action: 'create', collection: 'app.bsky.feed.post', rkey: '3l4aaaaaaaaa3', record: post('two') },
    ]);
    assert.deepEqual(first.ops.map((o) => [o.action, o.path, o.prev]), [
      ['create', 'app.bsky.feed.post/3l4aaaaaaaaa2', null],
      ['create', 'app.bsky.feed.post/3l4aaaaaaaaa3', null],
    ]);
    assert.equal(cidToString(first.ops[0].cid!), cidToString(cidForCbor(encodeCbor(post('one')))));
    const second = await repo.apply([
      { action: 'update', collection: 'app.bsky.feed.post', rkey: '3l4aaaaaaaaa2', record: post('one, edited') },
      { action: 'delete', collection: 'app.bsky.feed.post', rkey: '3l4aaaaaaaaa3' },
    ]);
    assert.equal(second.since, first.rev);
    assert.ok(second.rev > first.rev);
    assert.equal(cidToString(second.prevData!), cidToString(first.commit.data));
    assert.equal(cidToString(second.ops[0].prev!), cidToString(first.ops[0].cid!));
    assert.equal(cidToString(second.ops[1].prev!), cidToString(first.ops[1].cid!));
    assert.equal(second.ops[1].cid, null);
    // the replaced and deleted records, the old commit and the replaced nodes are all orphaned
    assert.ok(second.orphaned.has(cidToString(first.ops[0].cid!)));
    assert.ok(second.orphaned.has(cidToString(first.ops[1].cid!)));
    assert.ok(second.orphaned.has(cidToString(first.cid)));
    assert.deepEqual(new Set(repo.store.getMany(repo.reachable()).missing), new Set());
    assert.equal(repo.store.size, repo.reachable().size);
    await relayCheck(second, keypair);
  });

  it('refuses a create on an existing path and an update or delete of a missing one', async () => {
    const keypair = await generateKeypair('ES256K');
    const repo = new TestRepo(keypair);
    await repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'a', record: post('a') }]);
    await assert.rejects(repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'a', record: post('b') }]), RecordExistsError);
    await assert.rejects(repo.apply([{ action: 'update', collection: 'app.bsky.feed.post', rkey: 'b', record: post('b') }]), RecordNotFoundError);
    await assert.rejects(repo.apply([{ action: 'delete', collection: 'app.bsky.feed.post', rkey: 'b' }]), RecordNotFoundError);
    await assert.rejects(repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'a b', record: post('b') }]), InvalidWriteError);
    await assert.rejects(repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'c' }]), InvalidWriteError);
    await assert.rejects(repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'c', record: { $type: 'x', n: 1.5 } }]), InvalidWriteError);
  });

  it('takes records already encoded, without encoding them again', async () => {
    const keypair = await generateKeypair('ES256K');
    const repo = new TestRepo(keypair);
    const bytes = encodeCbor(post('pre-encoded')).slice();
    const result = await repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'x', bytes }]);
    assert.equal(cidToString(result.ops[0].cid!), cidToString(cidForCbor(bytes)));
    assert.equal(result.newBlocks.get(cidToString(cidForCbor(bytes))), bytes);
  });

  it("starts from the cache's last root when it is the root named, and from the named root otherwise", async () => {
    const keypair = await generateKeypair('ES256K');
    const repo = new TestRepo(keypair);
    const first = await repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'a', record: post('a') }]);
    assert.equal(repo.cache.lastRoot?.$link, cidToString(first.commit.data), 'the new root is kept');
    const kept = repo.cache.lastRoot;
    const second = await repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'b', record: post('b') }]);
    assert.equal(cidToString(second.prevData!), kept!.$link);
    // a cache whose last root is another tree's (another repo's, or an older head) is not used
    repo.cache.lastRoot = first.mst.cid;
    const third = await repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'c', record: post('c') }]);
    assert.equal(cidToString(third.prevData!), cidToString(second.commit.data));
    assert.deepEqual([...third.mst.leaves()].map((l) => l.key), ['app.bsky.feed.post/a', 'app.bsky.feed.post/b', 'app.bsky.feed.post/c']);
    assert.deepEqual(repo.store.getMany(repo.reachable()).missing, []);
    assert.equal(repo.store.size, repo.reachable().size);
  });

  it('issues a rev above the previous one even when that one is ahead of the clock', async () => {
    const keypair = await generateKeypair('ES256K');
    const repo = new TestRepo(keypair);
    await repo.apply([]);
    repo.head = { ...repo.head!, rev: '3zzzzzzzzzzz2' };
    const result = await repo.apply([]);
    assert.ok(result.rev > '3zzzzzzzzzzz2');
  });

  for (const useIndex of [true, false]) {
    it(`orphans a record block two paths share only when the last one lets go (${useIndex ? 'counts from the record index' : 'walks the tree'})`, async () => {
      const keypair = await generateKeypair('ES256K');
      const repo = new TestRepo(keypair, useIndex);
      const same = post('identical');
      const shared = cidToString(cidForCbor(encodeCbor(same)));
      await repo.apply([
        { action: 'create', collection: 'app.bsky.feed.post', rkey: 'a', record: same },
        { action: 'create', collection: 'app.bsky.feed.post', rkey: 'b', record: same },
      ]);
      const first = await repo.apply([{ action: 'delete', collection: 'app.bsky.feed.post', rkey: 'a' }]);
      assert.equal(first.orphaned.has(shared), false);
      assert.equal(repo.store.has(shared), true);
      const second = await repo.apply([{ action: 'update', collection: 'app.bsky.feed.post', rkey: 'b', record: post('changed') }]);
      assert.equal(second.orphaned.has(shared), true);
      assert.equal(repo.store.has(shared), false);
      // moved within one batch: deleted at one path, created at another, never orphaned
      await repo.apply([{ action: 'create', collection: 'app.bsky.feed.post', rkey: 'c', record: same }]);
      const moved = await repo.apply([
        { action: 'delete', collection: 'app.bsky.feed.post', rkey: 'c' },
        { action: 'create', collection: 'app.bsky.feed.post', rkey: 'd', record: same },
      ]);
      assert.equal(moved.orphaned.has(shared), false);
      assert.equal(moved.firehoseBlocks.has(shared), true);
      assert.equal(repo.store.has(shared), true);
    });
  }

  for (const useIndex of [true, false]) {
    it(`random batches keep exactly the reachable blocks and every event passes the relay check (${useIndex ? 'index' : 'walk'})`, async () => {
      const keypair = await generateKeypair('ES256K');
      const repo = new TestRepo(keypair, useIndex);
      const rand = random(useIndex ? 7 : 8);
      const live: string[] = [];
      let n = 0;
      for (let round = 0; round < 60; round++) {
        const writes: RecordWrite[] = [];
        const touched = new Set<string>();
        for (let w = 1 + Math.floor(rand() * 8); w > 0; w--) {
          const r = rand();
          // few distinct texts, so paths often share record blocks
          const record = post(`text ${Math.floor(rand() * 6)}`);
          const candidates = live.filter((p) => !touched.has(p));
          if (candidates.length < 3 || r < 0.5) {
            const rkey = `r${(n++).toString(36)}`;
            writes.push({ action: 'create', collection: rand() < 0.5 ? 'app.bsky.feed.post' : 'app.bsky.feed.like', rkey, record });
            touched.add(`${writes.at(-1)!.collection}/${rkey}`);
          } else {
            const path = candidates[Math.floor(rand() * candidates.length)];
            touched.add(path);
            const [collection, rkey] = path.split('/');
            writes.push(r < 0.75 ? { action: 'update', collection, rkey, record } : { action: 'delete', collection, rkey });
          }
        }
        const result = await repo.apply(writes);
        live.length = 0;
        live.push(...repo.index.keys());
        const stored = new Set([...repo.store.entries()].map(([cid]) => cid));
        assert.deepEqual(stored, repo.reachable(), `round ${round}`);
        await relayCheck(result, keypair);
      }
    });
  }

  it('builds the same trees as @atproto/repo from the same writes', async () => {
    const keypair = await generateKeypair('ES256K');
    const repo = new TestRepo(keypair);
    const theirKey = await Secp256k1Keypair.import(keypair.exportPrivateKey());
    let theirs = await Repo.create(new MemoryBlockstore(), did, theirKey);
    const first = await repo.apply([]);
    assert.equal(cidToString(first.commit.data), theirs.commit.data.toString());
    const rand = random(11);
    const live = new Set<string>();
    for (let round = 0; round < 40; round++) {
      const writes: RecordWrite[] = [];
      const theirWrites: RecordWriteOp[] = [];
      const seen = new Set<string>();
      for (let w = 0; w < 5; w++) {
        const rkey = `k${Math.floor(rand() * 60)}`;
        const path = `app.bsky.feed.post/${rkey}`;
        if (seen.has(path)) continue;
        seen.add(path);
        const record = post(`${round}-${w}`);
        if (!live.has(path)) {
          writes.push({ action: 'create', collection: 'app.bsky.feed.post', rkey, record });
          theirWrites.push({ action: WriteOpAction.Create, collection: 'app.bsky.feed.post', rkey, record });
          live.add(path);
        } else if (rand() < 0.5) {
          writes.push({ action: 'update', collection: 'app.bsky.feed.post', rkey, record });
          theirWrites.push({ action: WriteOpAction.Update, collection: 'app.bsky.feed.post', rkey, record });
        } else {
          writes.push({ action: 'delete', collection: 'app.bsky.feed.post', rkey });
          theirWrites.push({ action: WriteOpAction.Delete, collection: 'app.bsky.feed.post', rkey });
          live.delete(path);
        }
      }
      const ours = await repo.apply(writes);
      theirs = await theirs.applyWrites(theirWrites, theirKey);
      assert.equal(cidToString(ours.commit.data), theirs.commit.data.toString(), `round ${round}`);
    }
  });
});
