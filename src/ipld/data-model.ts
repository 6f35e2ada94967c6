// atproto JSON ⇄ the in-memory data model (the @atcute one), with the data-model rules checked on
import { decodeBase64Lenient } from './base64.ts';
// the way in. The two forms are nearly the same: `{ $link }` objects stay as they are (the CBOR
// encoder reads them directly), so a typical record is validated without being copied. Only what
// the encoder cannot take as-is is replaced, copy-on-write up to the root: `$bytes` objects become
// `BytesWrapper`s (clients send unpadded, padded and even non-canonical base64, which the reference
// implementation accepts), and legacy `{ cid, mimeType }` blobs become modern blob objects.
import { BytesWrapper, CidLinkWrapper } from '@atcute/cbor';
import { fromString as parseCidString } from '@atcute/cid';
import { toBase64 } from '@atcute/multibase';
import { DataModelError } from './errors.ts';

export { DataModelError };

/** A blob reference found in a record. */
export interface BlobRef {
  /** Where it sits, e.g. `['embed', 'images', 0, 'image']`. */
  path: Array<string | number>;
  /** The blob's CID string (`ref.$link`). */
  cid: string;
  mimeType: string;
  /** Declared size in bytes; 0 for a legacy blob whose size was not known (see `jsonToData`). */
  size: number;
  /** The reference was written in the deprecated `{ cid, mimeType }` form. */
  legacy: boolean;
}

export interface JsonToDataOptions {
  /**
   * Size of the blob a legacy `{ cid, mimeType }` reference points to, from the blob store. The
   * legacy form carries no size; the spec says never to write a modern blob ref with size <= 0,
   * so the write path should resolve it. Without this, or when it returns undefined, the
   * normalised ref gets size 0, the spec's marker for "unknown" (reported by `findBlobRefs`).
   */
  legacyBlobSize?: (cid: string, mimeType: string) => number | undefined;
  /** Receives every blob ref met during the conversion, so callers need no second walk. */
  blobs?: BlobRef[];
}

/** Deeper than any real record (the Lexicon layer uses the same bound); keeps a hostile document from exhausting the stack. */
export const MAX_DATA_DEPTH = 2048;

interface Ctx {
  path: Array<string | number>;
  options: JsonToDataOptions;
}

/**
 * Validates atproto JSON (a JSON object, as from `JSON.parse`) as data-model data and returns it in
 * data-model form, ready for `encodeCbor`. Throws `DataModelError` naming the offending path for:
 * a non-object top level, floats or integers beyond 2^53, a `$type` that is not a non-empty string,
 * `$link` / `$bytes` objects that are not a single string key holding a valid CID / base64, and
 * malformed blobs. The input is never modified; unchanged subtrees are shared with the result.
 */
export function jsonToData(json: unknown, options: JsonToDataOptions = {}): unknown {
  if (!isPlainObject(json)) throw new DataModelError('top-level value must be an object', '');
  return convert(json, { path: [], options }, 0);
}

function convert(v: unknown, ctx: Ctx, depth: number): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isSafeInteger(v)) fail(ctx, 'numbers must be integers within ±(2^53-1): the data model has no floats');
      return v;
    case 'object':
      break;
    default:
      return fail(ctx, `a ${typeof v} is not a data-model value`);
  }
  if (v === null) return v;
  if (depth >= MAX_DATA_DEPTH) fail(ctx, `nested deeper than ${MAX_DATA_DEPTH} levels`);
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      if (item === undefined) fail(ctx, 'arrays must not contain undefined', i);
      if (item === null || typeof item !== 'object') {
        if (typeof item === 'number' && !Number.isSafeInteger(item)) fail(ctx, 'numbers must be integers within ±(2^53-1): the data model has no floats', i);
        else if (typeof item !== 'number' && typeof item !== 'string' && typeof item !== 'boolean' && item !== null) fail(ctx, `a ${typeof item} is not a data-model value`, i);
        continue;
      }
      ctx.path.push(i);
      const c = convert(item, ctx, depth + 1);
      ctx.path.pop();
      if (c !== item) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  if (v instanceof CidLinkWrapper || v instanceof BytesWrapper) return v;
  if (!isPlainObject(v)) fail(ctx, `must be a plain object, not ${(v as object).constructor?.name ?? 'an exotic object'}`);
  const obj = v as Record<string, unknown>;
  if (obj.$link !== undefined) return checkLink(obj, ctx);
  if (obj.$bytes !== undefined) return convertBytes(obj, ctx);
  const type = obj.$type;
  if (type !== undefined) {
    if (typeof type !== 'string' || type.length === 0) fail(ctx, '$type must be a non-empty string', '$type');
    if (type === 'blob') return checkBlob(obj, ctx);
  } else if (typeof obj.cid === 'string' && typeof obj.mimeType === 'string' && hasOnlyKeys(obj, LEGACY_BLOB_KEYS)) {
    return convertLegacyBlob(obj, ctx);
  }
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const val = obj[key];
    if (val === null || typeof val !== 'object') {
      if (typeof val === 'number') {
        if (!Number.isSafeInteger(val)) fail(ctx, 'numbers must be integers within ±(2^53-1): the data model has no floats', key);
      } else if (typeof val !== 'string' && typeof val !== 'boolean' && val !== null && val !== undefined) {
        fail(ctx, `a ${typeof val} is not a data-model value`, key);
      }
      continue;
    }
    ctx.path.push(key);
    const c = convert(val, ctx, depth + 1);
    ctx.path.pop();
    if (c !== val) setOwn((out ??= copyObject(obj)), key, c);
  }
  return out ?? obj;
}

function checkLink(obj: Record<string, unknown>, ctx: Ctx): unknown {
  const link = obj.$link;
  if (typeof link !== 'string') fail(ctx, '$link must be a string');
  if (!hasOnlyKey(obj, '$link')) fail(ctx, 'a $link object must have no other keys');
  if (!isValidCidString(link)) fail(ctx, `$link is not a valid CID: ${JSON.stringify(link.slice(0, 80))}`);
  return obj;
}

function convertBytes(obj: Record<string, unknown>, ctx: Ctx): BytesWrapper {
  const b64 = obj.$bytes;
  if (typeof b64 !== 'string') fail(ctx, '$bytes must be a string');
  if (!hasOnlyKey(obj, '$bytes')) fail(ctx, 'a $bytes object must have no other keys');
  const bytes = decodeBase64Lenient(b64);
  if (bytes === undefined) fail(ctx, '$bytes is not valid base64');
  return new BytesWrapper(bytes);
}

const BLOB_KEYS = new Set(['$type', 'ref', 'mimeType', 'size']);
const LEGACY_BLOB_KEYS = new Set(['cid', 'mimeType']);

function checkBlob(obj: Record<string, unknown>, ctx: Ctx): unknown {
  for (const key in obj) if (!BLOB_KEYS.has(key) && obj[key] !== undefined) fail(ctx, `blob has an unexpected key ${JSON.stringify(key)}`);
  const ref = obj.ref;
  let cid: string;
  if (ref instanceof CidLinkWrapper) {
    cid = ref.$link;
  } else {
    if (ref === null || typeof ref !== 'object' || typeof (ref as { $link?: unknown }).$link !== 'string' || !hasOnlyKey(ref as Record<string, unknown>, '$link')) {
      fail(ctx, 'blob ref must be a CID link', 'ref');
    }
    cid = (ref as { $link: string }).$link;
    if (!isValidCidString(cid)) fail(ctx, 'blob ref is not a valid CID', 'ref');
  }
  const { mimeType, size } = obj;
  if (typeof mimeType !== 'string' || mimeType.length === 0) fail(ctx, 'blob mimeType must be a non-empty string', 'mimeType');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) fail(ctx, 'blob size must be a non-negative integer', 'size');
  ctx.options.blobs?.push({ path: ctx.path.slice(), cid, mimeType, size, legacy: false });
  return obj;
}

function convertLegacyBlob(obj: Record<string, unknown>, ctx: Ctx): Record<string, unknown> {
  const cid = obj.cid as string;
  const mimeType = obj.mimeType as string;
  if (!isValidCidString(cid)) fail(ctx, 'legacy blob cid is not a valid CID', 'cid');
  if (mimeType.length === 0) fail(ctx, 'blob mimeType must be a non-empty string', 'mimeType');
  let size = ctx.options.legacyBlobSize?.(cid, mimeType) ?? 0;
  if (!Number.isSafeInteger(size) || size < 0) size = 0;
  ctx.options.blobs?.push({ path: ctx.path.slice(), cid, mimeType, size, legacy: true });
  return { $type: 'blob', ref: { $link: cid }, mimeType, size };
}

/**
 * Every blob reference in a data-model value (modern `$type: 'blob'` objects, and legacy
 * `{ cid, mimeType }` ones still found in old records), in document order with its path. It only
 * looks for shapes; run `jsonToData` (or decode from CBOR) first for validation.
 */
export function findBlobRefs(value: unknown): BlobRef[] {
  const out: BlobRef[] = [];
  collectBlobs(value, [], out, 0);
  return out;
}

function collectBlobs(v: unknown, path: Array<string | number>, out: BlobRef[], depth: number): void {
  if (v === null || typeof v !== 'object' || depth > MAX_DATA_DEPTH) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      if (item === null || typeof item !== 'object') continue;
      path.push(i);
      collectBlobs(item, path, out, depth + 1);
      path.pop();
    }
    return;
  }
  if (v instanceof CidLinkWrapper || v instanceof BytesWrapper) return;
  const obj = v as Record<string, unknown>;
  if (obj.$type === 'blob') {
    const ref = obj.ref as { $link?: unknown } | null | undefined;
    const cid = ref?.$link;
    if (typeof cid === 'string' && typeof obj.mimeType === 'string' && typeof obj.size === 'number') {
      out.push({ path: path.slice(), cid, mimeType: obj.mimeType, size: obj.size, legacy: false });
    }
    return;
  }
  if (obj.$type === undefined && typeof obj.cid === 'string' && typeof obj.mimeType === 'string' && hasOnlyKeys(obj, LEGACY_BLOB_KEYS)) {
    out.push({ path: path.slice(), cid: obj.cid, mimeType: obj.mimeType, size: 0, legacy: true });
    return;
  }
  for (const key in obj) {
    const val = obj[key];
    if (val === null || typeof val !== 'object') continue;
    path.push(key);
    collectBlobs(val, path, out, depth + 1);
    path.pop();
  }
}

/**
 * The atproto JSON form of a data-model value (for HTTP responses): CID wrappers become
 * `{ $link }`, byte wrappers `{ $bytes }` (standard base64, unpadded). Plain parts are shared.
 */
export function dataToJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof CidLinkWrapper) return { $link: value.$link };
  if (value instanceof BytesWrapper) return { $bytes: toBase64(value.buf) };
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const c = dataToJson(value[i]);
      if (c !== value[i]) (out ??= value.slice())[i] = c;
    }
    return out ?? value;
  }
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const val = obj[key];
    const c = dataToJson(val);
    if (c !== val) setOwn((out ??= copyObject(obj)), key, c);
  }
  return out ?? obj;
}

/** Lexicon `cid` strings and `$link`s in records: exactly the CIDs a repository accepts. */
function isValidCidString(s: string): boolean {
  try {
    parseCidString(s);
    return true;
  } catch {
    return false;
  }
}


function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function hasOnlyKey(obj: Record<string, unknown>, only: string): boolean {
  for (const key in obj) if (key !== only && obj[key] !== undefined) return false;
  return true;
}

function hasOnlyKeys(obj: Record<string, unknown>, keys: Set<string>): boolean {
  let n = 0;
  for (const key in obj) {
    if (!keys.has(key)) return false;
    n++;
  }
  return n === keys.size;
}

function copyObject(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in obj) setOwn(out, key, obj[key]);
  return out;
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  // JSON.parse makes "__proto__" an ordinary own key; plain assignment would set the prototype.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function fail(ctx: Ctx, message: string, last?: string | number): never {
  const path = last === undefined ? ctx.path : [...ctx.path, last];
  throw new DataModelError(message, formatPath(path));
}

/** `['embed', 'images', 0, 'image']` → `embed.images[0].image`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
