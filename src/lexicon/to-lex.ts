// Turns this project's data model (the @atcute one: `{$link}` / CidLinkWrapper, `{$bytes}` /
import { decodeBase64Lenient } from '../ipld/base64.ts';
// BytesWrapper, `{$type: 'blob', ...}` objects) into the form @atproto/lexicon validates
// (multiformats CID, Uint8Array, BlobRef), checking data-model rules on the way.
//
// One pass, copy-on-write: subtrees without links, bytes or blobs are returned as they are,
// so a plain post is validated without a single copy.
import { BytesWrapper } from '@atcute/cbor';
import { CidLinkWrapper, decode as decodeCid, fromString as parseCid } from '@atcute/cid';
import { BlobRef } from '@atproto/lexicon';
import { CID } from 'multiformats/cid';
import { InvalidDataError } from './errors.ts';

// The validator tests cid-link values with `CID.asCID`, which accepts a CID of any multiformats
// copy (it checks the shape, not `instanceof`); the one @atproto/lexicon depends on is used.
/**
 * Deepest nesting accepted. Real records stay far below it (a thread view output is the
 * deepest legitimate value, about three levels per reply); hostile bodies nest far deeper,
 * and refusing them here gives a clear error instead of a stack overflow.
 */
export const MAX_DEPTH = 2048;

/** A blob ref met while converting: where it is and what it declares. */
export interface FoundBlob {
  path: Array<string | number>;
  cid: string;
  mimeType: string;
  size: number | undefined;
}

export interface ToLexOptions {
  /**
   * Accept the deprecated `{cid, mimeType}` blob form. Readers must tolerate it (old records
   * still hold it); writers must never produce it, so record writes leave this off.
   */
  legacyBlobs?: boolean;
  /** Receives every blob ref found, in document order. */
  blobs?: FoundBlob[];
}

interface Ctx {
  legacyBlobs: boolean;
  blobs: FoundBlob[] | undefined;
  path: Array<string | number>;
}

/** Converts `value` for @atproto/lexicon; throws InvalidDataError naming the offending path. */
export function toLex(value: unknown, options: ToLexOptions = {}): unknown {
  return convert(value, { legacyBlobs: options.legacyBlobs ?? false, blobs: options.blobs, path: [] });
}

function fail(ctx: Ctx, message: string): never {
  throw new InvalidDataError(message, ctx.path.slice());
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // JSON.parse makes "__proto__" an ordinary key; plain assignment would set the prototype.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function convert(v: unknown, ctx: Ctx): unknown {
  if (typeof v !== 'object') {
    switch (typeof v) {
      case 'string':
      case 'boolean':
      case 'undefined':
        return v;
      case 'number':
        if (!Number.isSafeInteger(v)) fail(ctx, 'must be an integer: the data model has no floats and no integers beyond 2^53');
        return v;
      default:
        return fail(ctx, `must not be a ${typeof v}`);
    }
  }
  if (v === null) return v;
  if (ctx.path.length >= MAX_DEPTH) fail(ctx, `is nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      ctx.path.push(i);
      const c = convert(v[i], ctx);
      ctx.path.pop();
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  if (v instanceof CidLinkWrapper) return cidFromBytes(v.bytes, ctx);
  if (v instanceof BytesWrapper) return v.buf;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    fail(ctx, `must be a plain object, not ${proto?.constructor?.name ?? 'an object with a custom prototype'}`);
  }
  const obj = v as Record<string, unknown>;
  if ('$link' in obj) return convertLink(obj, ctx);
  if ('$bytes' in obj) return convertBytes(obj, ctx);
  const type = obj.$type;
  if (type !== undefined) {
    if (typeof type !== 'string' || type.length === 0) fail(ctx, '$type must be a non-empty string');
    if (type === 'blob') return convertBlob(obj, ctx);
  } else if (ctx.legacyBlobs && isLegacyBlob(obj)) {
    return convertLegacyBlob(obj, ctx);
  }
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const val = obj[key];
    ctx.path.push(key);
    const c = convert(val, ctx);
    ctx.path.pop();
    if (c !== val) setOwn((out ??= { ...obj }), key, c);
  }
  return out ?? obj;
}

function hasOnlyKey(obj: Record<string, unknown>, only: string): boolean {
  for (const key in obj) if (key !== only) return false;
  return true;
}

function cidFromBytes(bytes: Uint8Array, ctx: Ctx): object {
  try {
    decodeCid(bytes);
  } catch (err) {
    fail(ctx, `is not a valid CID link: ${(err as Error).message}`);
  }
  return CID.decode(bytes);
}

function convertLink(obj: Record<string, unknown>, ctx: Ctx): object {
  const link = obj.$link;
  if (typeof link !== 'string') fail(ctx, '$link must be a string');
  if (!hasOnlyKey(obj, '$link')) fail(ctx, 'a $link object can not have other keys');
  let bytes: Uint8Array;
  try {
    bytes = parseCid(link).bytes;
  } catch {
    fail(ctx, `$link is not a valid CID: ${JSON.stringify(link.slice(0, 80))}`);
  }
  return CID.decode(bytes);
}

function convertBytes(obj: Record<string, unknown>, ctx: Ctx): Uint8Array {
  const b64 = obj.$bytes;
  if (typeof b64 !== 'string') fail(ctx, '$bytes must be a string');
  if (!hasOnlyKey(obj, '$bytes')) fail(ctx, 'a $bytes object can not have other keys');
  const bytes = decodeBase64Lenient(b64);
  if (!bytes) fail(ctx, '$bytes is not valid base64');
  return bytes;
}


/** The CID string of a blob's `ref`, which must be a link. */
function blobCid(ref: unknown, ctx: Ctx): string {
  if (ref instanceof CidLinkWrapper) {
    try {
      decodeCid(ref.bytes);
    } catch {
      fail(ctx, 'is not a valid blob: ref is not a valid CID');
    }
    return ref.$link;
  }
  if (typeof ref !== 'object' || ref === null || typeof (ref as { $link?: unknown }).$link !== 'string' || !hasOnlyKey(ref as Record<string, unknown>, '$link')) {
    fail(ctx, 'is not a valid blob: ref must be a CID link');
  }
  const link = (ref as { $link: string }).$link;
  try {
    parseCid(link);
  } catch {
    fail(ctx, 'is not a valid blob: ref is not a valid CID');
  }
  return link;
}

const BLOB_KEYS = new Set(['$type', 'ref', 'mimeType', 'size']);

function convertBlob(obj: Record<string, unknown>, ctx: Ctx): BlobRef {
  for (const key in obj) if (!BLOB_KEYS.has(key)) fail(ctx, `is not a valid blob: unexpected key ${JSON.stringify(key)}`);
  const cid = blobCid(obj.ref, ctx);
  const { mimeType, size } = obj;
  if (typeof mimeType !== 'string' || mimeType.length === 0) fail(ctx, 'is not a valid blob: mimeType must be a non-empty string');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) fail(ctx, 'is not a valid blob: size must be a non-negative integer');
  ctx.blobs?.push({ path: ctx.path.slice(), cid, mimeType, size });
  // The validator checks only `instanceof BlobRef`, never `ref`; the CID was checked above, so
  // the costly multiformats CID (about 5 µs each) is not built for it.
  return new BlobRef(obj.ref as never, mimeType, size);
}

function isLegacyBlob(obj: Record<string, unknown>): boolean {
  let n = 0;
  for (const key in obj) {
    if (key !== 'cid' && key !== 'mimeType') return false;
    n++;
  }
  return n === 2 && typeof obj.cid === 'string' && typeof obj.mimeType === 'string';
}

function convertLegacyBlob(obj: Record<string, unknown>, ctx: Ctx): BlobRef {
  const cid = obj.cid as string;
  const mimeType = obj.mimeType as string;
  try {
    parseCid(cid);
  } catch {
    fail(ctx, 'is not a valid legacy blob: cid is not a valid CID');
  }
  ctx.blobs?.push({ path: ctx.path.slice(), cid, mimeType, size: undefined });
  return new BlobRef(cid as never, mimeType, -1, { cid, mimeType });
}
