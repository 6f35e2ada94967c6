import type { CarBlockBytes } from '../ipld/car.ts';
import { CborError, encodeCbor } from '../ipld/cbor.ts';
import { cidForCbor, cidToString, type Cid } from '../ipld/cid.ts';
import {
  InvalidMstKeyError,
  KeyExistsError,
  KeyNotFoundError,
  linkToCidObject,
  Mst,
  type BlockSource,
  type MstDiff,
  type NodeChanges,
  type MaybePromise,
  type NodeCache,
} from '../ipld/mst/index.ts';
import type { Keypair } from '../crypto/index.ts';
import { signCommit, type Commit } from './commit.ts';
import { InvalidWriteError, RecordExistsError, RecordNotFoundError } from './errors.ts';
import { nextTidAfter } from './tid.ts';

export interface RecordWrite {
  action: 'create' | 'update' | 'delete';
  collection: string;
  rkey: string;
  /** The record (data model) for create and update. */
  record?: unknown;
  /** Its DAG-CBOR, when the caller already encoded it; trusted to be `record`'s encoding. */
  bytes?: Uint8Array;
}

export interface WriteBatchInput {
  did: string;
  keypair: Pick<Keypair, 'sign'> & Partial<Pick<Keypair, 'signSync'>>;
  /** The repo's current commit; null for the first commit of a new, empty repo. */
  prev: { cid: Cid | string; rev: string; data: Cid | string } | null;
  /** Blocks of the repo as of `prev`. */
  blocks: BlockSource;
  /** Applied in order; a later write sees the earlier ones. */
  writes: readonly RecordWrite[];
  /** Decoded MST nodes of this repo, kept between commits. */
  cache?: NodeCache;
  /**
   * How many records of the repo as of `prev` link this CID (a lookup in the record index).
   * Needed to tell whether a record block another path still uses is orphaned; without it the
   * new tree is walked, which costs O(records) for a batch that deletes or replaces a record.
   */
  recordRefs?: (cid: string) => MaybePromise<number>;
  /**
   * The caller stores each record's block with its record (the record index), not among the
   * repo's blocks, so a record block goes when the last record holding it does: `newBlocks` and
   * `orphaned` then hold only commits and MST nodes, and `recordRefs` is not needed.
   */
  recordsStoredApart?: boolean;
}

export interface RecordOp {
  action: 'create' | 'update' | 'delete';
  path: string;
  cid: Cid | null;
  prev: Cid | null;
}

export interface WriteBatchResult {
  did: string;
  commit: Commit;
  cid: Cid;
  rev: string;
  /** The commit block. */
  bytes: Uint8Array;
  /** The previous commit's rev, the `since` of a firehose event. */
  since: string | null;
  /** The previous MST root (`prevData` of a firehose event). */
  prevData: Cid | null;
  /** One entry per write, in order. */
  ops: RecordOp[];
  /** Blocks to store: the commit, new MST nodes, new record blocks (not with `recordsStoredApart`). */
  newBlocks: Map<string, Uint8Array>;
  /** The block of every record a create or update of the batch wrote, by CID (those in the new tree are in `newBlocks` too, unless `recordsStoredApart`). */
  recordBlocks: Map<string, Uint8Array>;
  /**
   * Blocks of the previous repo no longer reachable: old commit, replaced nodes, unused records
   * (not with `recordsStoredApart`).
   */
  orphaned: Set<string>;
  /** The blocks a `#commit` event carries, by CID: commit, covering proof of every op, created or updated records. */
  firehoseBlocks: Map<string, CarBlockBytes>;
  /** The new tree, to keep reading from without reloading. */
  mst: Mst;
}

/**
 * One atomic repository change as a pure step: applies the writes to the MST, signs the new
 * commit and works out everything the storage and the firehose need. Nothing is written; the
 * caller stores `newBlocks`, deletes `orphaned` and moves the root in one transaction.
 */
export async function applyWriteBatch(input: WriteBatchInput): Promise<WriteBatchResult> {
  const { did, prev, writes } = input;
  const options = input.cache ? { cache: input.cache } : {};
  let base: Mst;
  if (prev) {
    // usually the root the repo's last write built over this cache: its link, not the string parsed again
    const data = cidString(prev.data);
    const last = input.cache?.lastRoot;
    base = Mst.load(input.blocks, last !== undefined && last.$link === data ? last : data, options);
  } else {
    base = Mst.empty(input.blocks, options);
  }

  let mst = base;
  const ops: RecordOp[] = [];
  const records = new Map<string, Uint8Array>();
  const lastWrite = new Map<string, number>();
  for (const write of writes) {
    const path = `${write.collection}/${write.rkey}`;
    try {
      if (write.action === 'delete') {
        const found = mst.get(path);
        const old = found instanceof Promise ? await found : found;
        if (old === null) throw new RecordNotFoundError(path);
        const next = mst.delete(path);
        mst = next instanceof Promise ? await next : next;
        ops.push({ action: 'delete', path, cid: null, prev: linkToCidObject(old) });
      } else if (write.action === 'create' || write.action === 'update') {
        if (write.bytes === undefined && write.record === undefined) throw new InvalidWriteError(`${write.action} of ${path} without a record`);
        // encodeCbor may return a view into a pooled buffer; the block outlives the next encode
        const bytes = write.bytes ?? encodeCbor(write.record).slice();
        const cid = cidForCbor(bytes);
        records.set(cidToString(cid), bytes);
        if (write.action === 'create') {
          const grown = mst.add(path, cid);
          mst = grown instanceof Promise ? await grown : grown;
          ops.push({ action: 'create', path, cid, prev: null });
        } else {
          const current = mst.get(path);
          const old = current instanceof Promise ? await current : current;
          if (old === null) throw new RecordNotFoundError(path);
          const updated = mst.update(path, cid);
          mst = updated instanceof Promise ? await updated : updated;
          ops.push({ action: 'update', path, cid, prev: linkToCidObject(old) });
        }
      } else {
        throw new InvalidWriteError(`unknown write action ${String((write as RecordWrite).action)}`);
      }
    } catch (err) {
      throw translate(err, path);
    }
    lastWrite.set(path, ops.length - 1);
  }

  const data = linkToCidObject(mst.cid);
  // Records stored apart need only the nodes that changed; records' blocks among the repo's
  // blocks need the leaves' changes too (which records came and went).
  let diff: NodeChanges;
  let leaves: MstDiff | undefined;
  if (input.recordsStoredApart) {
    const changed = mst.nodeChangesFrom(base);
    diff = changed instanceof Promise ? await changed : changed;
  } else {
    const diffed = mst.diffFrom(base);
    diff = leaves = diffed instanceof Promise ? await diffed : diffed;
  }
  // the covering proof of every path written (the root included) is what a relay needs
  const proved = mst.proof(lastWrite.keys());
  const proof = proved instanceof Promise ? await proved : proved;
  const rev = nextTidAfter(prev?.rev ?? null);
  const signed = await signCommit({ did, data, rev }, input.keypair);
  const commitCid = cidToString(signed.cid);

  const newBlocks = new Map<string, Uint8Array>([[commitCid, signed.bytes]]);
  for (const [cid, node] of diff.newNodes) newBlocks.set(cid, node.bytes);
  // a diff of two empty trees opens nothing, but a new repo must still store its empty root
  if (prev === null) newBlocks.set(mst.cid.$link, proof.get(mst.cid.$link)!.bytes);
  // the next commit of this repo starts from these nodes: keep them decoded
  if (input.cache) {
    mst.store.remember(diff.newNodes.values());
    input.cache.lastRoot = mst.cid;
  }

  const orphaned = new Set<string>(diff.removedNodes);
  if (prev) orphaned.add(cidString(prev.cid));
  // records' blocks among the repo's blocks: the new ones to store, the unused ones to drop
  if (leaves) {
    const added = new Map<string, number>();
    for (const { cid } of leaves.adds) count(added, cid.$link);
    for (const { cid } of leaves.updates) count(added, cid.$link);
    for (const cid of added.keys()) newBlocks.set(cid, records.get(cid)!);
    const released = new Map<string, number>();
    for (const { prev: old } of leaves.deletes) count(released, old.$link);
    for (const { prev: old } of leaves.updates) count(released, old.$link);
    if (released.size > 0) {
      for (const cid of await unusedRecords(released, added, mst, input.recordRefs)) orphaned.add(cid);
    }
  }
  for (const cid of newBlocks.keys()) orphaned.delete(cid);

  // with each block its CID's bytes, which the event's CAR is written from (no string to parse back)
  const firehoseBlocks = new Map<string, CarBlockBytes>([[commitCid, { cid: signed.cid, bytes: signed.bytes }]]);
  for (const [cid, node] of proof) firehoseBlocks.set(cid, { cid: node.cid, bytes: node.bytes });
  for (const [cid, node] of diff.newNodes) firehoseBlocks.set(cid, { cid: node.cid, bytes: node.bytes });
  for (const index of lastWrite.values()) {
    const op = ops[index];
    if (op.cid !== null) {
      const cid = cidToString(op.cid);
      firehoseBlocks.set(cid, { cid: op.cid, bytes: records.get(cid)! });
    }
  }

  return {
    did,
    commit: signed.commit,
    cid: signed.cid,
    rev,
    bytes: signed.bytes,
    since: prev?.rev ?? null,
    prevData: prev ? linkToCidObject(base.cid) : null,
    ops,
    newBlocks,
    recordBlocks: records,
    orphaned,
    firehoseBlocks,
    mst,
  };
}

/**
 * Record CIDs that lost references in this batch and have none left. Two paths can share one
 * record block (identical records), so losing one reference proves nothing: the count of
 * references before the batch decides, from the caller's index or, failing that, a walk.
 */
async function unusedRecords(
  released: Map<string, number>,
  added: Map<string, number>,
  mst: Mst,
  recordRefs: WriteBatchInput['recordRefs'],
): Promise<string[]> {
  const candidates = [...released.keys()].filter((cid) => !added.has(cid));
  if (candidates.length === 0) return [];
  if (recordRefs) {
    const unused: string[] = [];
    for (const cid of candidates) {
      const refs = recordRefs(cid);
      const before = refs instanceof Promise ? await refs : refs;
      if (before - released.get(cid)! <= 0) unused.push(cid);
    }
    return unused;
  }
  const open = new Set(candidates);
  for await (const leaf of mst.leavesAsync()) {
    if (open.delete(leaf.value.$link) && open.size === 0) break;
  }
  return [...open];
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function cidString(cid: Cid | string): string {
  return typeof cid === 'string' ? cid : cidToString(cid);
}

function translate(err: unknown, path: string): unknown {
  if (err instanceof KeyExistsError) return new RecordExistsError(path);
  if (err instanceof KeyNotFoundError) return new RecordNotFoundError(path);
  if (err instanceof InvalidMstKeyError) return new InvalidWriteError(`invalid record path ${path}: ${err.message}`);
  if (err instanceof CborError) return new InvalidWriteError(`record ${path} cannot be stored: ${err.message}`);
  return err;
}
