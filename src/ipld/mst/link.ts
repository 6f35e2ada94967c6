import { hash } from 'node:crypto';
import { CidLinkWrapper } from '@atcute/cid';
import { fromBase32 } from '@atcute/multibase';

/**
 * A CID link as the tree holds it: the raw CID bytes plus the base32 string, computed once on
 * first use. It is the data model's `CidLink` (`{ $link }`), so values flow to and from records
 * and the block stores (keyed by string) without conversions on the hot path.
 */
export type Link = CidLinkWrapper;

/** Anything that names a CID: a link (`{ $link }`), a CID object with `bytes`, or its string. */
export type LinkLike = { $link: string } | { bytes: Uint8Array } | string;

const DAG_CBOR = 0x71;
const SHA2_256 = 0x12;

/** The CID link of a DAG-CBOR block: CIDv1, dag-cbor, sha2-256 (the one format for MST nodes). */
export function linkForCbor(block: Uint8Array): Link {
  const bytes = new Uint8Array(36);
  bytes[0] = 1;
  bytes[1] = DAG_CBOR;
  bytes[2] = SHA2_256;
  bytes[3] = 32;
  bytes.set(hash('sha256', block, 'buffer'), 4);
  return new CidLinkWrapper(bytes);
}

export function toLink(value: LinkLike): Link {
  if (value instanceof CidLinkWrapper) return value;
  if (typeof value === 'string') return parseLink(value);
  if ('bytes' in value && value.bytes instanceof Uint8Array) {
    if (!isCidBytes(value.bytes)) throw new TypeError('not the bytes of a CIDv1');
    return new CidLinkWrapper(value.bytes);
  }
  if ('$link' in value && typeof value.$link === 'string') return parseLink(value.$link);
  throw new TypeError('not a CID');
}

/** Parses a base32 CIDv1 string (`b…`); throws a TypeError on anything else. */
export function parseLink(str: string): Link {
  if (str.length < 2 || str.charCodeAt(0) !== 0x62 /* b */) throw new TypeError(`not a base32 CIDv1: ${str.slice(0, 80)}`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase32(str.slice(1));
  } catch {
    throw new TypeError(`not a base32 CIDv1: ${str.slice(0, 80)}`);
  }
  if (!isCidBytes(bytes)) throw new TypeError(`not a CIDv1: ${str.slice(0, 80)}`);
  const link = new CidLinkWrapper(bytes);
  // base32 admits several spellings of the same bytes (case, trailing bits); only the canonical one is a CID string
  if (link.$link !== str) throw new TypeError(`not a canonical CID string: ${str.slice(0, 80)}`);
  return link;
}

export function linkEquals(a: Link, b: Link): boolean {
  if (a === b) return true;
  const x = a.bytes;
  const y = b.bytes;
  if (x.length !== y.length) return false;
  // the digest differs early for different blocks; the 4-byte prefix almost never does
  for (let i = x.length - 1; i >= 0; i--) if (x[i] !== y[i]) return false;
  return true;
}

/** True for the 36-byte CIDv1 dag-cbor sha2-256 links every MST node and commit must use. */
export function isBlessedNodeCid(bytes: Uint8Array): boolean {
  return bytes.length === 36 && bytes[0] === 1 && bytes[1] === DAG_CBOR && bytes[2] === SHA2_256 && bytes[3] === 32;
}

/**
 * Structural check of CIDv1 bytes: version, codec, multihash code and length as varints, then
 * exactly that many digest bytes. Record links may use any codec or hash, so no more is asked.
 */
export function isCidBytes(bytes: Uint8Array): boolean {
  if (bytes.length < 4 || bytes[0] !== 1) return false;
  let pos = 1;
  for (let field = 0; field < 3; field++) {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length || shift > 28) return false;
      const b = bytes[pos++];
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (b === 0 && shift > 0) return false; // a varint must be minimal
        break;
      }
      shift += 7;
    }
    if (field === 2) return pos + value === bytes.length && value > 0;
  }
  return false;
}

/** A CID object (`@atcute/cid`'s shape) over a link's bytes, for any CIDv1, not only the blessed form. */
export function linkToCidObject(link: Link): { version: number; codec: number; digest: { codec: number; contents: Uint8Array }; bytes: Uint8Array } {
  const bytes = link.bytes;
  if (isBlessedNodeCid(bytes) || (bytes.length === 36 && bytes[1] === 0x55 && bytes[2] === SHA2_256 && bytes[3] === 32)) {
    return { version: 1, codec: bytes[1], digest: { codec: SHA2_256, contents: bytes.subarray(4) }, bytes };
  }
  const fields: number[] = [];
  let pos = 1;
  for (let f = 0; f < 3; f++) {
    let value = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[pos++];
      value |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    fields.push(value);
  }
  return { version: 1, codec: fields[0], digest: { codec: fields[1], contents: bytes.subarray(pos) }, bytes };
}
