import type { BlockSource } from '../ipld/mst/index.ts';

export type { BlockSource };

/**
 * Blocks of one repository (commit, MST nodes, records) by CID string. Synchronous, like both
 * implementations: the MST reads through the narrower `BlockSource`, which may also be async.
 * Writes carry the `rev` of the commit that (re)introduced each block, so a repo can be exported
 * "since" a revision. Stores never open transactions: the write path wraps one commit in one.
 */
export interface BlockStore extends BlockSource {
  get(cid: string): Uint8Array | undefined;
  has(cid: string): boolean;
  getMany(cids: Iterable<string>): { blocks: Map<string, Uint8Array>; missing: string[] };
  /** Inserts blocks; one that is already stored gets the new `rev` (it is part of that commit again). */
  putMany(blocks: Iterable<[string, Uint8Array]>, rev: string): void;
  deleteMany(cids: Iterable<string>): void;
}

/** A block store in memory: tests, and scratch space for building or checking a repo. */
export class MemoryBlockStore implements BlockStore {
  readonly #blocks = new Map<string, { bytes: Uint8Array; rev: string }>();

  get(cid: string): Uint8Array | undefined {
    return this.#blocks.get(cid)?.bytes;
  }

  has(cid: string): boolean {
    return this.#blocks.has(cid);
  }

  getMany(cids: Iterable<string>): { blocks: Map<string, Uint8Array>; missing: string[] } {
    const blocks = new Map<string, Uint8Array>();
    const missing: string[] = [];
    for (const cid of cids) {
      const entry = this.#blocks.get(cid);
      if (entry === undefined) missing.push(cid);
      else blocks.set(cid, entry.bytes);
    }
    return { blocks, missing };
  }

  putMany(blocks: Iterable<[string, Uint8Array]>, rev: string): void {
    for (const [cid, bytes] of blocks) this.#blocks.set(cid, { bytes, rev });
  }

  deleteMany(cids: Iterable<string>): void {
    for (const cid of cids) this.#blocks.delete(cid);
  }

  /** Every block, optionally only those written by commits after `sinceRev`. */
  *entries(sinceRev?: string): Generator<[string, Uint8Array]> {
    for (const [cid, { bytes, rev }] of this.#blocks) {
      if (sinceRev === undefined || rev > sinceRev) yield [cid, bytes];
    }
  }

  get size(): number {
    return this.#blocks.size;
  }
}
