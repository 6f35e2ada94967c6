// Direct DAG-CBOR writing, for the fixed-schema values the write path makes for every write: MST
// nodes, commits, the CAR header and the `#commit` event. Their schemas are known, so their bytes
// are laid out directly (map keys in canonical order, minimal lengths) instead of going through the
// generic encoder, which builds wrappers, sorts each map's keys and dispatches on every value. Each
// writer is held to the generic encoder's bytes by its tests.
//
// The pattern: add up the exact size, allocate once, write, check that the size was right.

const utf8 = new TextEncoder();

/** Bytes of a CBOR head (major type + argument) for `value`, 0 <= value <= 2^53. */
export function headerSize(value: number): number {
  return value < 24 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : value <= 0xffffffff ? 5 : 9;
}

/** Writes a CBOR head with the minimal argument; returns the position after it. */
export function writeHeader(out: Uint8Array, pos: number, major: number, value: number): number {
  const m = major << 5;
  if (value < 24) {
    out[pos] = m | value;
    return pos + 1;
  }
  if (value < 0x100) {
    out[pos] = m | 24;
    out[pos + 1] = value;
    return pos + 2;
  }
  if (value < 0x10000) {
    out[pos] = m | 25;
    out[pos + 1] = value >> 8;
    out[pos + 2] = value & 0xff;
    return pos + 3;
  }
  if (value <= 0xffffffff) {
    out[pos] = m | 26;
    writeUint32(out, pos + 1, value);
    return pos + 5;
  }
  out[pos] = m | 27;
  writeUint32(out, pos + 1, Math.floor(value / 0x100000000));
  writeUint32(out, pos + 5, value >>> 0);
  return pos + 9;
}

function writeUint32(out: Uint8Array, pos: number, value: number): void {
  out[pos] = value >>> 24;
  out[pos + 1] = (value >> 16) & 0xff;
  out[pos + 2] = (value >> 8) & 0xff;
  out[pos + 3] = value & 0xff;
}

/** Copies `bytes` in at `pos`; returns the position after them. */
export function writeRaw(out: Uint8Array, pos: number, bytes: ArrayLike<number>): number {
  out.set(bytes, pos);
  return pos + bytes.length;
}

/** A map key or any short string as its full CBOR text item (head included), made once at load. */
export function textItem(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  const out = new Uint8Array(headerSize(bytes.length) + bytes.length);
  writeRaw(out, writeHeader(out, 0, 3, bytes.length), bytes);
  return out;
}

/** UTF-8 length of `text`: its length when it is ASCII, as DIDs, TIDs, record paths and times are. */
export function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.byteLength(text, 'utf8');
  return text.length;
}

/** Size of a text or byte string item of `length` bytes. */
export function stringSize(length: number): number {
  return headerSize(length) + length;
}

/** A text item (major 3) of `text`, whose UTF-8 length `length` is (from `utf8Length`). */
export function writeText(out: Uint8Array, pos: number, text: string, length: number): number {
  pos = writeHeader(out, pos, 3, length);
  if (length === text.length) {
    for (let i = 0; i < length; i++) out[pos + i] = text.charCodeAt(i);
  } else {
    utf8.encodeInto(text, out.subarray(pos, pos + length));
  }
  return pos + length;
}

/** A byte string item (major 2). */
export function writeBytes(out: Uint8Array, pos: number, bytes: Uint8Array): number {
  return writeRaw(out, writeHeader(out, pos, 2, bytes.length), bytes);
}

/** Size of a CID link over `cidBytes`: tag 42, then a byte string of 0x00 + the CID. */
export function linkSize(cidBytes: Uint8Array): number {
  return 2 + headerSize(cidBytes.length + 1) + 1 + cidBytes.length;
}

/** A CID link: tag 42 over a byte string holding 0x00 (the identity multibase) and the CID's bytes. */
export function writeLink(out: Uint8Array, pos: number, cidBytes: Uint8Array): number {
  out[pos] = 0xd8;
  out[pos + 1] = 42;
  pos = writeHeader(out, pos + 2, 2, cidBytes.length + 1);
  out[pos] = 0;
  return writeRaw(out, pos + 1, cidBytes);
}

export const CBOR_NULL = 0xf6;
export const CBOR_FALSE = 0xf4;

/** Size of a CID link, or of null (one byte) when there is none. */
export function linkOrNullSize(cidBytes: Uint8Array | null): number {
  return cidBytes === null ? 1 : linkSize(cidBytes);
}

/** A CID link, or null when there is none (a commit's `prev`, a deleted record's op, an empty subtree). */
export function writeLinkOrNull(out: Uint8Array, pos: number, cidBytes: Uint8Array | null): number {
  if (cidBytes !== null) return writeLink(out, pos, cidBytes);
  out[pos] = CBOR_NULL;
  return pos + 1;
}

/** Throws when a writer's size sum and what it wrote disagree: a bug, never bad input. */
export function checkWritten(what: string, pos: number, size: number): void {
  if (pos !== size) throw new Error(`${what} encoder wrote ${pos} of ${size} bytes`);
}
