// Stored records straight from DAG-CBOR to JSON text, for the answers that carry many of them
// (listRecords, getRecord): one pass over the bytes into the answer's buffer, instead of decoding
// into objects, converting CIDs and bytes to their `$link` / `$bytes` forms, and serialising the
// result with `JSON.stringify` (together ~20% of a listRecords page's server CPU, with the GC
// they cause).
//
// The fast path accepts exactly what `decodeCbor` accepts, for the values records are made of:
// minimal argument encodings, integers in the safe range, text keys in canonical order without
// duplicates, well-formed UTF-8, tag 42 CIDs as atproto repositories allow them, no trailing bytes.
// Anything else (a float, `undefined`, another tag, nesting deeper than MAX_DEPTH) goes to the
// general path, which then answers exactly as before, errors included.
import { isUtf8 } from 'node:buffer';
import { toBase64 } from '@atcute/multibase';
import { decodeCbor } from './cbor.ts';
import { dataToJson } from './data-model.ts';
import type { JsonWriter } from './json-writer.ts';

/**
 * Writes one DAG-CBOR value (a record block) as its JSON form: the JSON value of
 * `JSON.stringify(dataToJson(decodeCbor(bytes)))` (map keys in the block's order). Throws
 * `CborError` where `decodeCbor` would, leaving `out` as it was.
 */
export function writeCborAsJson(bytes: Uint8Array, out: JsonWriter): void {
  if (transcodeCbor(bytes, out)) return;
  out.value(dataToJson(decodeCbor(bytes)));
}

/**
 * The fast path alone: true when it wrote the value; false (with `out` as it was) when the
 * value needs the general path, because it is malformed or uses what the fast path leaves out.
 */
export function transcodeCbor(bytes: Uint8Array, out: JsonWriter): boolean {
  const start = out.pos;
  if (item(bytes, 0, out, 0) === bytes.length) return true;
  out.pos = start;
  return false;
}

/** Refused by the fast path: the caller takes the general path. */
const FAIL = -1;
/** Deeper values take the general path (records are shallow; the decoder has no limit of its own). */
const MAX_DEPTH = 64;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const BASE32 = Buffer.from('abcdefghijklmnopqrstuvwxyz234567', 'latin1');

/** Writes the item at `p`; returns the position after it, or FAIL. */
function item(b: Uint8Array, p: number, out: JsonWriter, depth: number): number {
  if (p >= b.length) return FAIL;
  const initial = b[p++];
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === 7) {
    if (info === 20) out.raw('false');
    else if (info === 21) out.raw('true');
    else if (info === 22) out.raw('null');
    else return FAIL; // floats (refused by the decoder), undefined, other simple values
    return p;
  }
  let arg = info;
  if (info >= 24) {
    arg = argument(b, p, info);
    if (arg < 0) return FAIL;
    p += 1 << (info - 24);
  }
  switch (major) {
    case 0:
      out.raw(String(arg));
      return p;
    case 1: {
      const value = -1 - arg;
      if (value < Number.MIN_SAFE_INTEGER) return FAIL;
      out.raw(String(value));
      return p;
    }
    case 2:
      if (arg > b.length - p) return FAIL;
      out.raw(`{"$bytes":"${toBase64(b.subarray(p, p + arg))}"}`);
      return p + arg;
    case 3:
      return text(b, p, arg, out);
    case 4: {
      // Every element takes at least one byte: a length past the end is refused before looping.
      if (arg > b.length - p || depth >= MAX_DEPTH) return FAIL;
      out.byte(0x5b);
      for (let i = 0; i < arg; i++) {
        if (i > 0) out.byte(0x2c);
        p = item(b, p, out, depth + 1);
        if (p < 0) return FAIL;
      }
      out.byte(0x5d);
      return p;
    }
    case 5:
      if (arg > b.length - p || depth >= MAX_DEPTH) return FAIL;
      return map(b, p, arg, out, depth);
    case 6:
      return arg === 42 ? link(b, p, out) : FAIL;
    default:
      return FAIL;
  }
}

/** A map of `count` entries from `p`: text keys, each after the one before in canonical order. */
function map(b: Uint8Array, p: number, count: number, out: JsonWriter, depth: number): number {
  out.byte(0x7b);
  let prevStart = -1;
  let prevLength = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) out.byte(0x2c);
    if (p >= b.length) return FAIL;
    const initial = b[p++];
    if (initial >> 5 !== 3) return FAIL;
    const info = initial & 0x1f;
    let length = info;
    if (info >= 24) {
      length = argument(b, p, info);
      if (length < 0) return FAIL;
      p += 1 << (info - 24);
    }
    if (prevStart >= 0 && !keyFollows(b, prevStart, prevLength, p, length)) return FAIL;
    prevStart = p;
    prevLength = length;
    p = text(b, p, length, out);
    if (p < 0) return FAIL;
    out.byte(0x3a);
    p = item(b, p, out, depth + 1);
    if (p < 0) return FAIL;
  }
  out.byte(0x7d);
  return p;
}

/** DAG-CBOR key order: shorter first, then bytewise; equal keys (duplicates) are refused. */
function keyFollows(b: Uint8Array, prevStart: number, prevLength: number, start: number, length: number): boolean {
  if (length !== prevLength) return length > prevLength;
  for (let i = 0; i < length; i++) {
    const d = b[start + i] - b[prevStart + i];
    if (d !== 0) return d > 0;
  }
  return false;
}

/**
 * A text string of `length` bytes at `p` as a JSON string literal. Bytes are copied as they are
 * (after a UTF-8 check when any is non-ASCII); a string with a quote, a backslash or a control
 * character is decoded and written by `JSON.stringify`, whose escapes it then has.
 */
function text(b: Uint8Array, p: number, length: number, out: JsonWriter): number {
  const end = p + length;
  if (end > b.length) return FAIL;
  const buf = out.room(length + 2);
  let o = out.pos;
  buf[o++] = QUOTE;
  let high = 0;
  for (let i = p; i < end; i++) {
    const c = b[i];
    if (c < 0x20 || c === QUOTE || c === BACKSLASH) return escapedText(b, p, end, out);
    high |= c;
    buf[o++] = c;
  }
  if (high >= 0x80 && !isUtf8(b.subarray(p, end))) return FAIL;
  buf[o++] = QUOTE;
  out.pos = o;
  return end;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function escapedText(b: Uint8Array, p: number, end: number, out: JsonWriter): number {
  let s: string;
  try {
    s = utf8.decode(b.subarray(p, end));
  } catch {
    return FAIL;
  }
  out.value(s); // it has a quote, a backslash or a control character: JSON.stringify escapes it
  return end;
}

/** A CID link: a 37-byte byte string (0x00, then a CIDv1 of SHA-256, DAG-CBOR or raw). */
function link(b: Uint8Array, p: number, out: JsonWriter): number {
  if (p + 39 > b.length || b[p] !== 0x58 || b[p + 1] !== 37) return FAIL;
  const c = p + 2;
  if (b[c] !== 0 || b[c + 1] !== 1 || (b[c + 2] !== 0x71 && b[c + 2] !== 0x55) || b[c + 3] !== 0x12 || b[c + 4] !== 32) return FAIL;
  out.raw('{"$link":"b');
  const buf = out.room(60);
  let o = out.pos;
  let acc = 0;
  let bits = 0;
  for (let i = c + 1; i < c + 37; i++) {
    acc = (acc << 8) | b[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      buf[o++] = BASE32[(acc >>> bits) & 0x1f];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) buf[o++] = BASE32[(acc << (5 - bits)) & 0x1f];
  out.pos = o;
  out.raw('"}');
  return c + 37;
}

/**
 * The argument of a header whose additional info is 24-27, at `p`, or FAIL: past the end, not in
 * its shortest form, beyond 2^53, or an indefinite or reserved length.
 */
function argument(b: Uint8Array, p: number, info: number): number {
  switch (info) {
    case 24: {
      if (p + 1 > b.length) return FAIL;
      const v = b[p];
      return v < 24 ? FAIL : v;
    }
    case 25: {
      if (p + 2 > b.length) return FAIL;
      const v = (b[p] << 8) | b[p + 1];
      return v < 0x100 ? FAIL : v;
    }
    case 26: {
      if (p + 4 > b.length) return FAIL;
      const v = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      return v < 0x10000 ? FAIL : v;
    }
    case 27: {
      if (p + 8 > b.length) return FAIL;
      const hi = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
      if (hi > 0x1fffff || hi === 0) return FAIL; // beyond 2^53, or fits in 32 bits (not minimal)
      return hi * 0x1_0000_0000 + lo;
    }
    default:
      return FAIL;
  }
}
