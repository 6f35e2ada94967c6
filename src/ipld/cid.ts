// CIDs as atproto repositories use them: CIDv1, codec dag-cbor (0x71) or raw (0x55), sha2-256 with a
// 32-byte digest, base32 lower-case with the `b` prefix as a string. @atcute/cid models exactly that
// subset (anything else fails to parse), so this module adds hashing with node:crypto's one-shot
// `hash` (the fastest sha256 on Node) and turns the library's RangeError/SyntaxError into CidError.
import { hash } from 'node:crypto';
import {
  CODEC_DCBOR,
  CODEC_RAW,
  CidLinkWrapper,
  decode,
  equals,
  fromCidLink,
  fromString,
  toString,
  type Cid,
  type CidLink,
} from '@atcute/cid';
import { CidError } from './errors.ts';

export type { Cid, CidLink };
export { CidError, CODEC_DCBOR, CODEC_RAW };

/** Length of every binary CID here: version, codec, hash code, digest length, 32-byte digest. */
export const CID_BYTE_LENGTH = 36;

/** SHA-256 of `bytes` as a 32-byte Uint8Array (node:crypto one-shot hash). */
export function sha256(bytes: Uint8Array): Uint8Array {
  return hash('sha256', bytes, 'buffer');
}

/** CID of a DAG-CBOR block (records, MST nodes, commits). */
export function cidForCbor(bytes: Uint8Array): Cid {
  return ownedCid(CODEC_DCBOR, hash('sha256', bytes, 'buffer'));
}

/** CID of raw bytes (blobs). */
export function cidForRaw(bytes: Uint8Array): Cid {
  return ownedCid(CODEC_RAW, hash('sha256', bytes, 'buffer'));
}

/**
 * A CID whose 36 bytes are an array of their own. @atcute/cid's `fromDigest` and `fromString` take
 * them from Node's Buffer pool, a 64 KB slab shared by every small allocation made around the same
 * time, so one CID kept in a cache (the record CIDs in cached MST nodes) kept its whole slab alive:
 * 60 MB of slabs after 8,000 createRecords. A typed array this small is allocated inside the V8
 * heap, so owning the bytes also costs less than the pool.
 */
function ownedCid(codec: number, digest: Uint8Array): Cid {
  const bytes = new Uint8Array(CID_BYTE_LENGTH);
  bytes[0] = 1; // CIDv1
  bytes[1] = codec;
  bytes[2] = 0x12; // sha2-256
  bytes[3] = 32;
  bytes.set(digest, 4);
  return { version: 1, codec, digest: { codec: 0x12, contents: bytes.subarray(4) }, bytes } as Cid;
}

/** The CID `bytes` would have under `cid`'s codec, compared with `cid`: a block integrity check. */
export function cidMatchesBytes(cid: Cid, bytes: Uint8Array): boolean {
  const digest = hash('sha256', bytes, 'buffer');
  const expected = cid.digest.contents;
  // Buffer#equals is a native memcmp; the digest is always a Buffer here.
  return digest.equals(expected);
}

/**
 * Parses a base32 CID string, accepting only what a repository may contain: CIDv1, dag-cbor or raw,
 * sha2-256, 32-byte digest, lower-case base32 with canonical trailing bits. Throws `CidError`.
 */
export function parseCid(s: string): Cid {
  if (typeof s !== 'string') throw new CidError('CID must be a string');
  let cid: Cid;
  try {
    cid = fromString(s);
  } catch (err) {
    throw new CidError(`invalid CID ${JSON.stringify(s.slice(0, 80))}: ${(err as Error).message}`);
  }
  return ownedCid(cid.codec, cid.digest.contents);
}

/** Like `parseCid` but returns null instead of throwing. */
export function tryParseCid(s: string): Cid | null {
  try {
    const cid = fromString(s);
    return ownedCid(cid.codec, cid.digest.contents);
  } catch {
    return null;
  }
}

/** The canonical string form (`bafyrei…` / `bafkrei…`). */
export function cidToString(cid: Cid): string {
  return toString(cid);
}

/** Decodes a binary CID (the 36 bytes, without the 0x00 prefix DAG-CBOR puts in front). */
export function cidFromBytes(binary: Uint8Array): Cid {
  try {
    return decode(binary);
  } catch (err) {
    throw new CidError(`invalid binary CID: ${(err as Error).message}`);
  }
}

/** A CID link for the data model. Its `$link` string is computed lazily and cached. */
export function toLink(cid: Cid): CidLinkWrapper {
  return new CidLinkWrapper(cid.bytes);
}

/** The CID behind a data-model link: a decoded `CidLinkWrapper` or a JSON `{ $link }`. Throws `CidError`. */
export function linkToCid(link: CidLink): Cid {
  try {
    return fromCidLink(link);
  } catch (err) {
    throw new CidError(`invalid CID link: ${(err as Error).message}`);
  }
}

/** The string form of a link without building a Cid (cached on decoded wrappers). */
export function linkToString(link: CidLink): string {
  return link.$link;
}

export function cidEquals(a: Cid, b: Cid): boolean {
  return equals(a, b);
}

/** Whether a value is a CID as this module produces (structurally: version 1 and 36 CID bytes). */
export function isCid(value: unknown): value is Cid {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<Cid>;
  return v.version === 1 && v.bytes instanceof Uint8Array && v.bytes.length === 36 && typeof v.codec === 'number';
}
