import type { Database } from '../db/index.ts';
import { carBytesSync, writeCar, type CarBlock } from '../ipld/car.ts';
import { decodeCbor } from '../ipld/cbor.ts';
import { parseCid } from '../ipld/cid.ts';
import { Mst } from '../ipld/mst/index.ts';
import { SqliteBlockStore, streamRepoBlocks } from '../repo/sqlite-block-store.ts';

export class RepoExportError extends Error {
  constructor(
    readonly code: 'RepoNotFound' | 'BlockNotFound' | 'RecordNotFound',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A repo as a CAR stream (all of it, or the blocks written after `since`), read from one
 * database snapshot so concurrent commits can neither remove a block it needs nor add one
 * of a later state. Memory holds one page of blocks whatever the repo's size.
 */
export async function* exportRepoCar(db: Database, did: string, since?: string): AsyncGenerator<Uint8Array> {
  const snapshot = db.openSnapshot();
  try {
    const root = snapshot.handle.prepare('SELECT cid FROM repo_root WHERE did = ?').get(did) as { cid: string } | undefined;
    if (!root) throw new RepoExportError('RepoNotFound', `Could not find repo for DID: ${did}`);
    yield* writeCar(parseCid(root.cid), streamRepoBlocks(snapshot.handle, did, since));
  } finally {
    snapshot.close();
  }
}

/** Checks the repo exists before a stream starts, so a missing repo is a JSON error, not a cut stream. */
export function repoRootCid(db: Database, did: string): string {
  const root = db.prepare('SELECT cid FROM repo_root WHERE did = ?').get(did) as { cid: string } | undefined;
  if (!root) throw new RepoExportError('RepoNotFound', `Could not find repo for DID: ${did}`);
  return root.cid;
}

/** Named blocks of a repo as a CAR (no root); every one must exist. */
export function blocksCar(db: Database, did: string, cids: string[]): Uint8Array {
  const store = new SqliteBlockStore(db.handle, did);
  const { blocks, missing } = store.getMany(cids);
  if (missing.length > 0) throw new RepoExportError('BlockNotFound', `Could not find blocks: ${missing.slice(0, 10).join(', ')}`);
  return carBytesSync(null, [...blocks].map(([cid, bytes]) => ({ cid: parseCid(cid), bytes })));
}

/**
 * The proof of one record's presence or absence: the commit, the MST nodes on the path to the
 * key, and the record block when it exists, rooted at the commit.
 */
export function recordProofCar(db: Database, did: string, collection: string, rkey: string): Uint8Array {
  const store = new SqliteBlockStore(db.handle, did);
  return db.transaction(() => {
    const root = db.prepare('SELECT cid FROM repo_root WHERE did = ?').get(did) as { cid: string } | undefined;
    if (!root) throw new RepoExportError('RepoNotFound', `Could not find repo for DID: ${did}`);
    const commitBytes = store.get(root.cid);
    if (!commitBytes) throw new RepoExportError('BlockNotFound', `Commit block missing: ${root.cid}`);
    const commit = decodeCbor(commitBytes) as { data: { $link: string } };
    const mst = Mst.load(store, commit.data.$link);
    const key = `${collection}/${rkey}`;
    const nodes = mst.proof([key]);
    if (nodes instanceof Promise) throw new Error('synchronous block store expected');
    const blocks: CarBlock[] = [{ cid: parseCid(root.cid), bytes: commitBytes }];
    for (const [cid, node] of nodes) blocks.push({ cid: parseCid(cid), bytes: node.bytes });
    const leaf = mst.get(key);
    if (leaf instanceof Promise) throw new Error('synchronous block store expected');
    if (leaf) {
      const bytes = store.get(leaf.$link);
      if (bytes) blocks.push({ cid: parseCid(leaf.$link), bytes });
    }
    return carBytesSync(parseCid(root.cid), blocks);
  });
}
