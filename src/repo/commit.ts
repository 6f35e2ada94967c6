import { decodeCbor, isBytes, fromBytes, CidLinkWrapper } from '../ipld/cbor.ts';
import { checkWritten, linkOrNullSize, linkSize, stringSize, textItem, utf8Length, writeBytes, writeLink, writeLinkOrNull, writeRaw, writeText } from '../ipld/cbor-writer.ts';
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
// The commit schema is fixed, so its DAG-CBOR is written directly (ipld/cbor-writer.ts), as the
// MST's nodes are: map keys in canonical order (shorter first, then bytewise: did, rev, sig, data,
// prev, version). The signed commit is the unsigned one with `sig` in its place. commit.test.ts
// holds this to the generic encoder's bytes and to @atproto/repo's.

const KEY_DID = textItem('did');
const KEY_REV = textItem('rev');
const KEY_SIG = textItem('sig');
const KEY_DATA = textItem('data');
const KEY_PREV = textItem('prev');
const KEY_VERSION = textItem('version');

function writeCommit(commit: UnsignedCommit, sig: Uint8Array | undefined): Uint8Array {
  if (commit.version !== 3 && commit.version !== 2) throw new InvalidCommitError(`unsupported commit version ${String(commit.version)}`);
  const did = utf8Length(commit.did);
  const rev = utf8Length(commit.rev);
  let size = 1 + KEY_DID.length + stringSize(did) + KEY_REV.length + stringSize(rev);
  if (sig !== undefined) size += KEY_SIG.length + stringSize(sig.length);
  size += KEY_DATA.length + linkSize(commit.data.bytes) + KEY_PREV.length + linkOrNullSize(commit.prev && commit.prev.bytes);
  size += KEY_VERSION.length + 1;
  const out = new Uint8Array(size);
  out[0] = sig === undefined ? 0xa5 : 0xa6;
  let pos = writeText(out, writeRaw(out, 1, KEY_DID), commit.did, did);
  pos = writeText(out, writeRaw(out, pos, KEY_REV), commit.rev, rev);
  if (sig !== undefined) pos = writeBytes(out, writeRaw(out, pos, KEY_SIG), sig);
  pos = writeLink(out, writeRaw(out, pos, KEY_DATA), commit.data.bytes);
  pos = writeLinkOrNull(out, writeRaw(out, pos, KEY_PREV), commit.prev && commit.prev.bytes);
  pos = writeRaw(out, pos, KEY_VERSION);
  out[pos++] = commit.version; // an unsigned integer below 24 is its own head
  checkWritten('commit', pos, size);
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
