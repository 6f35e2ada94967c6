import { decodeCbor, isBytes, fromBytes, CidLinkWrapper } from '../ipld/cbor.ts';
import { cidForCbor, linkToCid, type Cid } from '../ipld/cid.ts';
import { verifySignature, type Keypair } from '../crypto/index.ts';
import { isValidDid } from '../syntax/index.ts';
import { isTid } from './tid.ts';
import { InvalidCommitError } from './errors.ts';

/** A repository commit (format version 3; version 2 is read for old repos, never written). */
export interface Commit {
  did: string;
  version: 3 | 2;
  /** Root of the MST. */
  data: Cid;
  rev: string;
  /** Always null in commits we write; version 2 commits may link their predecessor. */
  prev: Cid | null;
  sig: Uint8Array;
}

export type UnsignedCommit = Omit<Commit, 'sig'>;

export interface SignedCommit {
  commit: Commit;
  cid: Cid;
  /** The commit block: canonical DAG-CBOR of the signed commit. */
  bytes: Uint8Array;
}

/** The DAG-CBOR of a commit without its signature: the exact bytes the signature covers. */
export function encodeUnsignedCommit(commit: UnsignedCommit): Uint8Array {
  return writeCommit(commit, undefined);
}

export function encodeCommit(commit: Commit): Uint8Array {
  return writeCommit(commit, commit.sig);
}

// ---- encoding -------------------------------------------------------------------------------
// The commit schema is fixed, so its DAG-CBOR is written directly, as the MST's nodes are: map
// keys in canonical order (shorter first, then bytewise: did, rev, sig, data, prev, version),
// minimal lengths, links as tag 42 over 0x00 + CID bytes. The signed commit is the unsigned one
// with `sig` in its place. commit.test.ts holds this to the generic encoder and @atproto/repo's.

const utf8 = new TextEncoder();
const KEY_DID = [0x63, 0x64, 0x69, 0x64];
const KEY_REV = [0x63, 0x72, 0x65, 0x76];
const KEY_SIG = [0x63, 0x73, 0x69, 0x67];
const KEY_DATA = [0x64, 0x64, 0x61, 0x74, 0x61];
const KEY_PREV = [0x64, 0x70, 0x72, 0x65, 0x76];
const KEY_VERSION = [0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e];

function headerSize(length: number): number {
  return length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

function writeHeader(out: Uint8Array, pos: number, major: number, length: number): number {
  const m = major << 5;
  if (length < 24) {
    out[pos] = m | length;
    return pos + 1;
  }
  if (length < 0x100) {
    out[pos] = m | 24;
    out[pos + 1] = length;
    return pos + 2;
  }
  if (length < 0x10000) {
    out[pos] = m | 25;
    out[pos + 1] = length >> 8;
    out[pos + 2] = length & 0xff;
    return pos + 3;
  }
  out[pos] = m | 26;
  out[pos + 1] = length >>> 24;
  out[pos + 2] = (length >> 16) & 0xff;
  out[pos + 3] = (length >> 8) & 0xff;
  out[pos + 4] = length & 0xff;
  return pos + 5;
}

function writeRaw(out: Uint8Array, pos: number, bytes: ArrayLike<number>): number {
  out.set(bytes, pos);
  return pos + bytes.length;
}

function linkSize(cid: Cid): number {
  return 2 + headerSize(cid.bytes.length + 1) + 1 + cid.bytes.length;
}

function writeLink(out: Uint8Array, pos: number, cid: Cid): number {
  out[pos] = 0xd8;
  out[pos + 1] = 42;
  pos = writeHeader(out, pos + 2, 2, cid.bytes.length + 1);
  out[pos] = 0;
  return writeRaw(out, pos + 1, cid.bytes);
}

function writeCommit(commit: UnsignedCommit, sig: Uint8Array | undefined): Uint8Array {
  const did = utf8.encode(commit.did);
  const rev = utf8.encode(commit.rev);
  if (commit.version !== 3 && commit.version !== 2) throw new InvalidCommitError(`unsupported commit version ${String(commit.version)}`);
  let size = 1 + KEY_DID.length + headerSize(did.length) + did.length + KEY_REV.length + headerSize(rev.length) + rev.length;
  if (sig !== undefined) size += KEY_SIG.length + headerSize(sig.length) + sig.length;
  size += KEY_DATA.length + linkSize(commit.data) + KEY_PREV.length + (commit.prev === null ? 1 : linkSize(commit.prev)) + KEY_VERSION.length + 1;
  const out = new Uint8Array(size);
  out[0] = sig === undefined ? 0xa5 : 0xa6;
  let pos = writeRaw(out, 1, KEY_DID);
  pos = writeRaw(out, writeHeader(out, pos, 3, did.length), did);
  pos = writeRaw(out, pos, KEY_REV);
  pos = writeRaw(out, writeHeader(out, pos, 3, rev.length), rev);
  if (sig !== undefined) {
    pos = writeRaw(out, pos, KEY_SIG);
    pos = writeRaw(out, writeHeader(out, pos, 2, sig.length), sig);
  }
  pos = writeLink(out, writeRaw(out, pos, KEY_DATA), commit.data);
  pos = writeRaw(out, pos, KEY_PREV);
  if (commit.prev === null) out[pos++] = 0xf6;
  else pos = writeLink(out, pos, commit.prev);
  pos = writeRaw(out, pos, KEY_VERSION);
  out[pos++] = commit.version; // an unsigned integer below 24 is its own header
  if (pos !== size) throw new Error(`commit encoder wrote ${pos} of ${size} bytes`);
  return out;
}

/** Signs a new version 3 commit: ECDSA with the account's key over the unsigned commit's DAG-CBOR. */
export async function signCommit(
  fields: { did: string; data: Cid; rev: string },
  keypair: Pick<Keypair, 'sign'> & Partial<Pick<Keypair, 'signSync'>>,
): Promise<SignedCommit> {
  const unsigned: UnsignedCommit = { did: fields.did, version: 3, data: fields.data, rev: fields.rev, prev: null };
  const message = encodeUnsignedCommit(unsigned);
  // a key that signs in-thread skips the promise; remote signers (a KMS, an HSM) use `sign`
  const sig = keypair.signSync ? keypair.signSync(message) : await keypair.sign(message);
  const commit: Commit = { ...unsigned, sig };
  const bytes = encodeCommit(commit);
  return { commit, cid: cidForCbor(bytes), bytes };
}

const FIELDS = new Set(['did', 'version', 'data', 'rev', 'prev', 'sig']);

/** Decodes and checks a commit block; throws InvalidCommitError on anything but a valid commit. */
export function decodeCommit(bytes: Uint8Array): Commit {
  let value: unknown;
  try {
    value = decodeCbor(bytes);
  } catch (err) {
    throw new InvalidCommitError(`commit is not DAG-CBOR: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidCommitError('commit is not a map');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!FIELDS.has(key)) throw new InvalidCommitError(`unknown commit field ${key}`);
  const { did, version, data, rev, prev, sig } = obj;
  if (version !== 3 && version !== 2) throw new InvalidCommitError(`unsupported commit version ${String(version)}`);
  if (typeof did !== 'string' || !isValidDid(did)) throw new InvalidCommitError('commit did is not a DID');
  if (typeof rev !== 'string' || !isTid(rev)) throw new InvalidCommitError('commit rev is not a TID');
  if (!(data instanceof CidLinkWrapper)) throw new InvalidCommitError('commit data is not a CID link');
  if (prev !== null && !(prev instanceof CidLinkWrapper)) throw new InvalidCommitError('commit prev is neither null nor a CID link');
  if (version === 3 && !('prev' in obj)) throw new InvalidCommitError('version 3 commit without prev');
  if (!isBytes(sig)) throw new InvalidCommitError('commit sig is not bytes');
  return {
    did,
    version,
    data: linkCid(data, 'data'),
    rev,
    prev: prev === null || prev === undefined ? null : linkCid(prev, 'prev'),
    sig: fromBytes(sig),
  };
}

function linkCid(link: CidLinkWrapper, field: string): Cid {
  let cid: Cid;
  try {
    cid = linkToCid(link);
  } catch {
    throw new InvalidCommitError(`commit ${field} is not a CIDv1 sha2-256`);
  }
  if (cid.codec !== 0x71) throw new InvalidCommitError(`commit ${field} does not link DAG-CBOR`);
  return cid;
}

/** Whether the commit's signature verifies against a did:key (low-S ECDSA, as atproto requires). */
export async function verifyCommitSignature(commit: Commit, didKey: string): Promise<boolean> {
  return verifySignature(didKey, encodeUnsignedCommit(commit), commit.sig);
}
