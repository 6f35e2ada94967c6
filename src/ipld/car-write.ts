// CAR v1 writing: a header, then varint-prefixed sections, streamed in chunks (see car.ts).
import type { CarBlock, CarBlockBytes } from './car.ts';
import { checkWritten, headerSize, linkSize, textItem, writeHeader, writeLink, writeRaw } from './cbor-writer.ts';
import { CID_BYTE_LENGTH as CID_BYTES, type Cid } from './cid.ts';
import { CarError } from './errors.ts';

const WRITE_CHUNK_BYTES = 64 * 1024;

type BlockSource = AsyncIterable<CarBlock> | Iterable<CarBlock>;

const KEY_ROOTS = textItem('roots');
const KEY_VERSION = textItem('version');

/**
 * The header block of a CAR with these roots (with its varint length prefix): `{roots, version: 1}`
 * in DAG-CBOR, written directly (a firehose event makes one per commit).
 */
export function encodeCarHeader(roots: readonly Cid[]): Uint8Array {
  let size = 1 + KEY_ROOTS.length + headerSize(roots.length) + KEY_VERSION.length + 1;
  for (const root of roots) size += linkSize(root.bytes);
  const prefix = varintLength(size);
  const out = new Uint8Array(prefix + size);
  let pos = writeVarint(size, out, 0);
  out[pos++] = 0xa2;
  pos = writeHeader(out, writeRaw(out, pos, KEY_ROOTS), 4, roots.length);
  for (const root of roots) pos = writeLink(out, pos, root.bytes);
  pos = writeRaw(out, pos, KEY_VERSION);
  out[pos++] = 1;
  checkWritten('CAR header', pos, prefix + size);
  return out;
}

/**
 * Streams a CAR: the header for `root` (none when null, as for `getBlocks`), then each block, in
 * chunks of about 64 KiB. Blocks are written as given: callers own their integrity.
 */
export async function* writeCar(root: Cid | null, blocks: BlockSource): AsyncGenerator<Uint8Array, void, undefined> {
  const writer = new ChunkWriter(encodeCarHeader(root === null ? [] : [root]));
  const ready: Uint8Array[] = [];
  if (Symbol.iterator in blocks) {
    for (const block of blocks) {
      writer.add(block, ready);
      if (ready.length > 0) {
        for (const chunk of ready) yield chunk;
        ready.length = 0;
      }
    }
  } else {
    for await (const block of blocks) {
      writer.add(block, ready);
      if (ready.length > 0) {
        for (const chunk of ready) yield chunk;
        ready.length = 0;
      }
    }
  }
  const last = writer.flush();
  if (last !== null) yield last;
}

class ChunkWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(header: Uint8Array) {
    this.#buf = Buffer.allocUnsafe(Math.max(WRITE_CHUNK_BYTES, header.length));
    this.#buf.set(header, 0);
    this.#pos = header.length;
  }

  /** Appends a block; chunks that are complete are pushed onto `ready`. */
  add({ cid, bytes }: CarBlock, ready: Uint8Array[]): void {
    if (cid.bytes.length !== CID_BYTES) throw new CarError('CAR blocks need a 36-byte CIDv1 (sha2-256)');
    const sectionLength = CID_BYTES + bytes.length;
    const needed = varintLength(sectionLength) + sectionLength;
    if (this.#pos + needed > this.#buf.length && this.#pos > 0) ready.push(this.flush()!);
    if (needed > this.#buf.length) {
      // A block bigger than a chunk goes out as its own prefix plus the caller's bytes, uncopied.
      const prefix = new Uint8Array(varintLength(sectionLength) + CID_BYTES);
      prefix.set(cid.bytes, writeVarint(sectionLength, prefix, 0));
      ready.push(prefix, bytes);
      return;
    }
    const buf = this.#buf;
    let pos = writeVarint(sectionLength, buf, this.#pos);
    buf.set(cid.bytes, pos);
    buf.set(bytes, pos + CID_BYTES);
    this.#pos = pos + sectionLength;
  }

  flush(): Uint8Array | null {
    if (this.#pos === 0) return null;
    const out = this.#buf.subarray(0, this.#pos);
    // The consumer may hold the chunk it got, so the next one gets fresh memory.
    this.#buf = Buffer.allocUnsafe(WRITE_CHUNK_BYTES);
    this.#pos = 0;
    return out;
  }
}

/** A whole CAR in memory, for small archives (firehose events, tests). */
export async function carBytes(root: Cid | null, blocks: BlockSource): Promise<Uint8Array> {
  if (Symbol.iterator in blocks) return carBytesSync(root, blocks);
  const chunks: Uint8Array[] = [];
  for await (const chunk of writeCar(root, blocks)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `carBytes` without the event loop: sizes everything first, then fills one buffer. */
export function carBytesSync(root: Cid | null, blocks: Iterable<CarBlockBytes>): Uint8Array {
  const header = encodeCarHeader(root === null ? [] : [root]);
  const list = Array.isArray(blocks) ? (blocks as CarBlockBytes[]) : [...blocks];
  let total = header.length;
  for (const { cid, bytes } of list) {
    if (cid.bytes.length !== CID_BYTES) throw new CarError('CAR blocks need a 36-byte CIDv1 (sha2-256)');
    total += varintLength(CID_BYTES + bytes.length) + CID_BYTES + bytes.length;
  }
  const out = Buffer.allocUnsafe(total);
  out.set(header, 0);
  let pos = header.length;
  for (const { cid, bytes } of list) {
    pos = writeVarint(CID_BYTES + bytes.length, out, pos);
    out.set(cid.bytes, pos);
    out.set(bytes, pos + CID_BYTES);
    pos += CID_BYTES + bytes.length;
  }
  return out;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(n: number, buf: Uint8Array, pos: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}
