// Deterministic DAG-CBOR (DRISL) on top of @atcute/cbor, which already sorts keys canonically,
// writes minimal lengths and refuses most non-canonical input. What it lets through is floats:
// it writes non-integers as float64 and reads float64 back. atproto forbids floats everywhere, so
// both directions run a header-only scan of the encoded bytes to find any float item.
//
// The in-memory model is atcute's: CID links are `{ $link }` objects (`CidLinkWrapper` after a
// decode), bytes are `{ $bytes }` objects (`BytesWrapper` after a decode). A plain object whose only
// key is `$link` (a base32 CID string) or `$bytes` (base64) encodes as a CID or a byte string, so
// a record straight out of `JSON.parse` encodes without being copied into another representation.
import { decode, decodeFirst, encode } from '@atcute/cbor';
import { CborError } from './errors.ts';

export { BytesWrapper, CidLinkWrapper, fromBytes, isBytes, isCidLink, toBytes } from '@atcute/cbor';
export type { Bytes, CidLink } from '@atcute/cbor';
export { CborError };

/**
 * Encodes a data-model value as canonical DAG-CBOR. Throws `CborError` for floats, NaN and
 * infinities, integers outside the safe range, `undefined` inside arrays, bigints, `Uint8Array`
 * (wrap bytes with `toBytes`), class instances other than the CID/bytes wrappers, and malformed
 * `$link` / `$bytes` values. Object properties set to `undefined` are left out, as in JSON.
 *
 * The result may be a view into a larger pooled buffer: copy it before keeping it for long
 * alongside many others if memory matters.
 */
export function encodeCbor(value: unknown): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = encode(value);
  } catch (err) {
    throw new CborError(`cannot encode as DAG-CBOR: ${describe(err)}`);
  }
  if (containsFloat(bytes)) throw new CborError('cannot encode as DAG-CBOR: floating-point numbers are not allowed');
  return bytes;
}

/**
 * Decodes one strict DAG-CBOR value that must span all of `bytes`. Rejects non-canonical map key
 * order, duplicate keys, non-minimal lengths, indefinite lengths, floats of any width, undefined,
 * tags other than 42, malformed CIDs, invalid UTF-8, integers beyond 2^53, and trailing bytes.
 * Byte strings and CIDs in the result are views into `bytes`: do not mutate the input afterwards.
 */
export function decodeCbor(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (err) {
    throw new CborError(`invalid DAG-CBOR: ${describe(err)}`);
  }
  if (containsFloat(bytes)) throw new CborError('invalid DAG-CBOR: floating-point numbers are not allowed');
  return value;
}

/**
 * Decodes the first strict DAG-CBOR value of `bytes` and returns it with the bytes that follow.
 * Event-stream frames are two values back to back (header, then body); this reads them one at a time.
 */
export function decodeCborFirst(bytes: Uint8Array): [value: unknown, rest: Uint8Array] {
  let result: [unknown, Uint8Array];
  try {
    result = decodeFirst(bytes);
  } catch (err) {
    throw new CborError(`invalid DAG-CBOR: ${describe(err)}`);
  }
  if (containsFloat(bytes.subarray(0, bytes.length - result[1].length))) {
    throw new CborError('invalid DAG-CBOR: floating-point numbers are not allowed');
  }
  return result;
}

/**
 * Walks the item headers of well-formed CBOR and reports whether any item is a float (major type
 * 7, additional info 25, 26 or 27). String and byte payloads are skipped by length, so the scan
 * costs one step per item, not per byte, and nesting needs no stack: every header is followed
 * either by its payload or directly by the next header. Only call it on bytes that decoded or were
 * just encoded; on garbage it ends early without throwing but proves nothing.
 */
export function containsFloat(bytes: Uint8Array): boolean {
  const end = bytes.length;
  let pos = 0;
  while (pos < end) {
    const initial = bytes[pos++];
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) {
      if (info >= 25 && info <= 27) return true;
      continue;
    }
    let arg = info;
    if (info >= 24) {
      if (info === 24) arg = bytes[pos];
      else if (info === 25) arg = (bytes[pos] << 8) | bytes[pos + 1];
      else if (info === 26) arg = ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
      else if (info === 27) {
        const hi = ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
        const lo = ((bytes[pos + 4] << 24) | (bytes[pos + 5] << 16) | (bytes[pos + 6] << 8) | bytes[pos + 7]) >>> 0;
        arg = hi * 0x1_0000_0000 + lo;
      } else return false; // reserved or indefinite: not strict CBOR, which the decoder has already refused
      pos += 1 << (info - 24);
    }
    // Only byte and text strings carry a payload; map, array and tag headers are followed by items.
    if (major === 2 || major === 3) pos += arg;
  }
  return false;
}

function describe(err: unknown): string {
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'value is nested too deeply';
  return err instanceof Error ? err.message : String(err);
}
