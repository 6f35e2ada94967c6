import { decodeCbor } from '../ipld/cbor.ts';
import { readCarWithRoot, type CarLimits } from '../ipld/car.ts';
import { cidToString, type Cid } from '../ipld/cid.ts';
import { emptyNode, linkEquals, MstError, Mst, NodeCache, toLink, type Link, type LinkLike } from '../ipld/mst/index.ts';
import { isValidNsid, isValidRecordKey } from '../syntax/index.ts';
import { decodeCommit, verifyCommitSignature, type Commit } from './commit.ts';
import { BadCommitSignatureError, CommitDidMismatchError, InvalidCommitProofError, RepoVerificationError } from './errors.ts';

type ByteSource = Parameters<typeof readCarWithRoot>[0];

export interface VerifiedRecord {
  /** `<collection>/<rkey>`. */
  path: string;
  cid: string;
  bytes: Uint8Array;
}

export interface VerifiedRepo {
  commit: Commit;
  cid: Cid;
  records: VerifiedRecord[];
  /** The blocks the repo is made of (commit, nodes, records): what an import stores, nothing else. */
  blocks: Map<string, Uint8Array>;
}

/** A block of a verified repo tree, in the spec's streamable order: a node, then its slots. */
export type VerifiedTreeBlock = { kind: 'node'; cid: string; bytes: Uint8Array } | ({ kind: 'record'; value: unknown } & VerifiedRecord);

/** Where a tree walk reads blocks: synchronously (memory, a staging database). */
export interface SyncBlockSource {
  get(cid: string): Uint8Array | undefined;
  /** Reads a record's block, where the source tells records from the tree's blocks (an import's staging); `get` otherwise. */
  getRecord?(cid: string): Uint8Array | undefined;
}

/**
 * Verifies a whole repository from a CAR (bytes or a stream of chunks): every block's CID (while
 * reading), the commit's shape, DID and signature, the MST (canonical nodes, layers, global key
 * order, no empty nodes) and every record (present, strict DAG-CBOR, a map). Throws
 * CommitDidMismatchError, BadCommitSignatureError, InvalidCommitError or RepoVerificationError.
 * Holds the whole CAR in memory: a large import stages its blocks instead (see repo/import).
 */
export async function verifyRepoCar(
  car: ByteSource,
  expected: { did: string; didKey: string },
  limits?: CarLimits,
): Promise<VerifiedRepo> {
  const { root, blocks } = await readCar(car, limits);
  const commit = await verifyCommitBlock(blocks.get(cidToString(root)), root, expected);
  const out = new Map<string, Uint8Array>([[cidToString(root), blocks.get(cidToString(root))!]]);
  const records: VerifiedRecord[] = [];
  for (const block of verifiedTree({ get: (cid) => blocks.get(cid) }, commit.data)) {
    out.set(block.cid, block.bytes);
    if (block.kind === 'record') records.push({ path: block.path, cid: block.cid, bytes: block.bytes });
  }
  return { commit, cid: root, records, blocks: out };
}

/**
 * Every block of the tree under `data`, checked as it is reached: canonical nodes at the right
 * layers, keys in global order, each key a repo path (a valid NSID, "/", a valid record key, as
 * the repository spec has them today), each record present, strict DAG-CBOR and a map. Reads
 * one block at a time, so memory stays bounded whatever the repo's size. Throws
 * RepoVerificationError.
 */
export function* verifiedTree(source: SyncBlockSource, data: LinkLike | Cid): Generator<VerifiedTreeBlock, void, undefined> {
  // One pass reads each node once: a node cache would only hold up to its capacity of nodes
  // (tens of MB for a large repo) for nothing.
  const mst = Mst.load(source, data, { strict: true, cache: new NodeCache(2) });
  let previous = '';
  try {
    for (const block of mst.blocks()) {
      if (block.kind === 'node') {
        yield { kind: 'node', cid: block.cid.$link, bytes: block.node.bytes };
        continue;
      }
      // nodes check their own order; this catches a subtree hung in the wrong gap
      if (!(block.key > previous)) throw new RepoVerificationError(`key ${block.key} out of order after ${previous}`);
      previous = block.key;
      checkPath(block.key);
      const cid = block.cid.$link;
      const bytes = source.getRecord ? source.getRecord(cid) : source.get(cid);
      if (bytes === undefined) throw new RepoVerificationError(`missing record block ${cid} for ${block.key}`);
      yield { kind: 'record', path: block.key, cid, bytes, value: checkRecord(bytes, block.key) };
    }
  } catch (err) {
    throw asVerificationError(err);
  }
}

export interface ProofOp {
  action: 'create' | 'update' | 'delete';
  path: string;
  cid: LinkLike | Cid | null;
  prev?: LinkLike | Cid | null;
}

export interface CommitProof {
  /** CID of the commit (the event's `commit`); must be the CAR's root. */
  commit: Cid | LinkLike;
  /** The event's CAR slice. */
  blocks: Uint8Array;
  ops: readonly ProofOp[];
  /** Root of the previous tree; null when the repo had no tree before (its first commit). */
  prevData: Cid | LinkLike | null;
  /** Expected rev, when the event states one. */
  rev?: string;
}

/**
 * Verifies a `#commit` the way a relay does: the signed commit (DID, key, rev), then that the ops
 * describe the new tree (each path's last op matches what the tree holds, and created or
 * updated records are in the slice), then that undoing the ops on the partial tree in the slice,
 * last op first, reaches `prevData` exactly. Any block missing for that is an invalid proof.
 */
export async function verifyCommitProof(proof: CommitProof, expected: { did: string; didKey: string }): Promise<{ commit: Commit; cid: Cid }> {
  const { root, blocks } = await readCar(proof.blocks);
  const claimed = toLink(proof.commit);
  if (!linkEquals(claimed, toLink(root))) throw new InvalidCommitProofError('the CAR root is not the commit');
  const commit = await verifyCommitBlock(blocks.get(cidToString(root)), root, expected);
  if (proof.rev !== undefined && proof.rev !== commit.rev) throw new InvalidCommitProofError(`event rev ${proof.rev} is not the commit's ${commit.rev}`);

  const source = { get: (cid: string) => blocks.get(cid) };
  let mst = Mst.load(source, commit.data, { strict: true });
  try {
    const last = new Map<string, ProofOp>();
    for (const op of proof.ops) last.set(op.path, op);
    for (const [path, op] of last) {
      const held = mst.get(path) as Link | null;
      const cid = op.cid === null ? null : toLink(op.cid);
      if (op.action === 'delete' ? held !== null : held === null || cid === null || !linkEquals(held, cid)) {
        throw new InvalidCommitProofError(`op ${op.action} ${path} does not match the new tree`);
      }
      if (cid !== null && !blocks.has(cid.$link)) throw new InvalidCommitProofError(`record block ${cid.$link} of ${path} missing`);
    }
    for (let i = proof.ops.length - 1; i >= 0; i--) mst = invert(mst, proof.ops[i]);
  } catch (err) {
    if (err instanceof InvalidCommitProofError) throw err;
    if (err instanceof MstError) throw new InvalidCommitProofError(`ops cannot be inverted on the given blocks: ${err.message}`, { cause: err });
    throw err;
  }
  const prevData = proof.prevData === null ? emptyNode().cid : toLink(proof.prevData);
  if (!linkEquals(mst.cid, prevData)) {
    throw new InvalidCommitProofError(`inverting the ops gives ${mst.cid.$link}, not prevData ${prevData.$link}`);
  }
  return { commit, cid: root };
}

/** Undoes one op: a create is deleted, an update restored to its prev, a delete re-added. */
function invert(mst: Mst, op: ProofOp): Mst {
  const prev = op.prev === undefined || op.prev === null ? null : toLink(op.prev);
  if (op.action === 'create') {
    if (prev !== null) throw new InvalidCommitProofError(`create of ${op.path} with a prev`);
    return mst.delete(op.path) as Mst;
  }
  if (prev === null) throw new InvalidCommitProofError(`${op.action} of ${op.path} without prev`);
  if (op.action === 'update') return mst.update(op.path, prev) as Mst;
  return mst.add(op.path, prev) as Mst;
}

/**
 * Verifies a record proof (what `com.atproto.sync.getRecord` answers): a CAR whose root is a
 * commit by `expected.did` signed with `expected.didKey`, holding the tree path from the commit to
 * `path` and the record itself. Returns the record, or null when the tree proves it absent.
 * Throws RepoVerificationError, InvalidCommitError, CommitDidMismatchError or BadCommitSignatureError.
 */
export async function verifyRecordProof(car: Uint8Array, expected: { did: string; didKey: string }, path: string): Promise<{ commit: Commit; cid: string; value: unknown } | null> {
  const { root, blocks } = await readCar(car, { maxBlocks: 1_000, maxTotalBytes: car.byteLength });
  const commit = await verifyCommitBlock(blocks.get(cidToString(root)), root, expected);
  const source = { get: (cid: string) => blocks.get(cid) };
  let held: Link | null;
  try {
    held = Mst.load(source, commit.data, { strict: true }).get(path) as Link | null;
  } catch (err) {
    throw asVerificationError(err);
  }
  if (held === null) return null;
  const bytes = blocks.get(held.$link);
  if (bytes === undefined) throw new RepoVerificationError(`record block ${held.$link} of ${path} missing from the proof`);
  return { commit, cid: held.$link, value: checkRecord(bytes, path) };
}

async function readCar(car: ByteSource, limits?: CarLimits) {
  try {
    return await readCarWithRoot(car, limits);
  } catch (err) {
    throw new RepoVerificationError(`unreadable CAR: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Decodes a commit block and checks it belongs to `expected.did` and is signed by
 * `expected.didKey`. Throws RepoVerificationError (missing), InvalidCommitError,
 * CommitDidMismatchError or BadCommitSignatureError.
 */
export async function verifyCommitBlock(bytes: Uint8Array | undefined, cid: Cid, expected: { did: string; didKey: string }): Promise<Commit> {
  if (bytes === undefined) throw new RepoVerificationError(`commit block ${cidToString(cid)} missing`);
  const commit = decodeCommit(bytes);
  if (commit.did !== expected.did) throw new CommitDidMismatchError(expected.did, commit.did);
  if (!(await verifyCommitSignature(commit, expected.didKey))) {
    throw new BadCommitSignatureError(`commit ${cidToString(cid)} is not signed by ${expected.didKey}`);
  }
  return commit;
}

/** A repo path as the spec allows it today: `<NSID>/<record key>`. */
function checkPath(path: string): void {
  const slash = path.indexOf('/');
  if (!isValidNsid(path.slice(0, slash))) throw new RepoVerificationError(`record path ${path}: the collection is not a valid NSID`);
  if (!isValidRecordKey(path.slice(slash + 1))) throw new RepoVerificationError(`record path ${path}: not a valid record key`);
}

function checkRecord(bytes: Uint8Array, path: string): unknown {
  let value: unknown;
  try {
    value = decodeCbor(bytes);
  } catch (err) {
    throw new RepoVerificationError(`record ${path} is not valid DAG-CBOR: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RepoVerificationError(`record ${path} is not a map`);
  return value;
}

function asVerificationError(err: unknown): unknown {
  if (err instanceof MstError) return new RepoVerificationError(err.message, { cause: err });
  return err;
}

