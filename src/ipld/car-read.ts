// CAR v1 reading from bytes or chunks of any size, verifying every block (see car.ts).
import type { CarBlock } from './car.ts';
import { CidLinkWrapper, decodeCbor } from './cbor.ts';
import { CID_BYTE_LENGTH as CID_BYTES, cidFromBytes, cidMatchesBytes, cidToString, type Cid } from './cid.ts';
import { CarError } from './errors.ts';

export interface CarLimits {
  /** Largest block (bytes after the CID). Default 2 MiB: records and MST nodes are far smaller. */
  maxBlockBytes?: number;
  /** Most blocks. Default unlimited. */
  maxBlocks?: number;
  /** Most bytes of CAR read, header included. Default unlimited. */
  maxTotalBytes?: number;
}

export const DEFAULT_MAX_BLOCK_BYTES = 2 * 1024 * 1024;
/** A header names its roots; a few KiB is generous. Checked before the header is buffered. */
const MAX_HEADER_BYTES = 64 * 1024;

type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;

export interface CarReader {
  roots: Cid[];
  /** Every block, CID verified. Block bytes may be views into the input chunks. */
  blocks: AsyncGenerator<CarBlock, void, undefined>;
}

/**
 * Reads a CAR from bytes or from chunks of any size (a Node stream, a fetch body). Resolves once
 * the header is read; blocks then stream as they arrive. Throws (or the block generator throws)
 * `CarError` on any malformed input or exceeded limit. Stop iterating early and the source is
 * closed; never iterate the blocks and it stays open.
 */
export async function readCar(source: ByteSource, limits: CarLimits = {}): Promise<CarReader> {
  const input = new ChunkInput(source);
  const state = new ReadState(limits);
  let roots: Cid[];
  try {
    roots = await readHeader(input, state);
  } catch (err) {
    await input.close();
    throw err;
  }
  return { roots, blocks: readBlocks(input, state) };
}

/**
 * Reads a CAR that must have exactly one root (a repo export or a commit's blocks) into a map
 * from CID string to block bytes. Duplicate blocks collapse; all are verified. Runs without a
 * promise per block: it only waits when the buffered input runs out.
 */
export async function readCarWithRoot(source: ByteSource, limits: CarLimits = {}): Promise<{ root: Cid; blocks: Map<string, Uint8Array> }> {
  const input = new ChunkInput(source);
  const state = new ReadState(limits);
  try {
    const roots = await readHeader(input, state);
    if (roots.length !== 1) throw new CarError(`expected exactly one root in the CAR header, found ${roots.length}`);
    const map = new Map<string, Uint8Array>();
    for (;;) {
      const block = nextBufferedBlock(input, state);
      if (block === null) break;
      if (block === undefined) await refill(input, state);
      else map.set(cidToString(block.cid), block.bytes);
    }
    return { root: roots[0], blocks: map };
  } finally {
    await input.close();
  }
}

class ReadState {
  readonly maxBlockBytes: number;
  readonly maxBlocks: number;
  readonly maxTotalBytes: number;
  consumed = 0;
  blockCount = 0;
  /** Length of a section whose varint was read but whose bytes are not all buffered yet; -1 if none. */
  pending = -1;

  constructor(limits: CarLimits) {
    this.maxBlockBytes = limits.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
    this.maxBlocks = limits.maxBlocks ?? Infinity;
    this.maxTotalBytes = limits.maxTotalBytes ?? Infinity;
  }

  /** Accounts for `n` more bytes before they are buffered. */
  take(n: number): void {
    this.consumed += n;
    if (this.consumed > this.maxTotalBytes) throw new CarError(`CAR is larger than the limit of ${this.maxTotalBytes} bytes`);
  }
}

async function readHeader(input: ChunkInput, state: ReadState): Promise<Cid[]> {
  const length = await readVarint(input, state, 'header length');
  if (length === null) throw new CarError('CAR is empty: no header');
  if (length === 0) throw new CarError('CAR header is empty');
  if (length > MAX_HEADER_BYTES) throw new CarError(`CAR header of ${length} bytes is larger than ${MAX_HEADER_BYTES}`);
  state.take(length);
  if (input.available < length) await input.fill(length, 'header');
  const bytes = input.take(length);
  let header: unknown;
  try {
    header = decodeCbor(bytes);
  } catch (err) {
    throw new CarError(`CAR header is not valid DAG-CBOR: ${(err as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new CarError('CAR header must be a map');
  const { version, roots } = header as { version?: unknown; roots?: unknown };
  if (version !== 1) throw new CarError(`unsupported CAR version ${JSON.stringify(version)}; only CARv1 is read`);
  for (const key of Object.keys(header)) {
    if (key !== 'version' && key !== 'roots') throw new CarError(`unexpected key ${JSON.stringify(key)} in CAR header`);
  }
  if (!Array.isArray(roots)) throw new CarError('CAR header roots must be an array');
  return roots.map((root) => {
    if (!(root instanceof CidLinkWrapper)) throw new CarError('CAR header roots must be CID links');
    return cidFromBytes(root.bytes);
  });
}

async function* readBlocks(input: ChunkInput, state: ReadState): AsyncGenerator<CarBlock, void, undefined> {
  try {
    for (;;) {
      const block = nextBufferedBlock(input, state);
      if (block === null) return;
      if (block === undefined) await refill(input, state);
      else yield block;
    }
  } finally {
    await input.close();
  }
}

/**
 * The next block if its whole section is buffered; undefined when more input is needed first
 * (`refill`); null at a clean end of input. A section length read before its bytes arrived is
 * kept in `state.pending`, so no byte is ever parsed twice.
 */
function nextBufferedBlock(input: ChunkInput, state: ReadState): CarBlock | undefined | null {
  let length = state.pending;
  if (length < 0) {
    if (input.available === 0) return input.ended ? null : undefined;
    const read = readVarintSync(input, state, 'section length');
    if (read === undefined) {
      if (input.ended) throw new CarError('CAR is truncated inside a section length varint');
      return undefined;
    }
    length = read;
    if (length < CID_BYTES) throw new CarError(`CAR section of ${length} bytes is too short to hold a CID`);
    if (length - CID_BYTES > state.maxBlockBytes) {
      throw new CarError(`CAR block of ${length - CID_BYTES} bytes is larger than the limit of ${state.maxBlockBytes}`);
    }
    if (++state.blockCount > state.maxBlocks) throw new CarError(`CAR has more than the limit of ${state.maxBlocks} blocks`);
    state.take(length);
  }
  if (input.available < length) {
    if (input.ended) throw new CarError(`CAR is truncated inside a block: needed ${length} bytes, got ${input.available}`);
    state.pending = length;
    return undefined;
  }
  state.pending = -1;
  const section = input.take(length);
  const cid = readSectionCid(section);
  const bytes = section.subarray(CID_BYTES);
  if (!cidMatchesBytes(cid, bytes)) throw new CarError(`CAR block ${cidToString(cid)} does not match its CID`);
  return { cid, bytes };
}

/** Pulls what the next section needs: the rest of a section of known length, else one more chunk. */
async function refill(input: ChunkInput, state: ReadState): Promise<void> {
  if (state.pending >= 0) await input.fill(state.pending, 'block');
  else await input.more();
}

/** The CID at the start of a section: only CIDv1, dag-cbor or raw, sha2-256 (what repos hold). */
function readSectionCid(section: Uint8Array): Cid {
  if (section[0] === 0x12 && section[1] === 0x20) throw new CarError('CAR block has a CIDv0; only CIDv1 is accepted');
  if (section[0] !== 0x01) throw new CarError(`CAR block CID has unsupported version ${section[0]}`);
  if (section[1] !== 0x71 && section[1] !== 0x55) throw new CarError(`CAR block CID has unsupported codec 0x${section[1].toString(16)}`);
  if (section[2] !== 0x12 || section[3] !== 0x20) throw new CarError('CAR block CID must use a 32-byte sha2-256 digest');
  return cidFromBytes(section.subarray(0, CID_BYTES));
}

/** `readVarint` from buffered bytes only; undefined when they hold no complete varint. */
function readVarintSync(input: ChunkInput, state: ReadState, what: string): number | undefined {
  const buf = input.buffer;
  const start = input.position;
  const end = Math.min(buf.length, start + 8);
  let value = 0;
  for (let p = start; p < end; p++) {
    const byte = buf[p];
    value += (byte & 0x7f) * 2 ** (7 * (p - start));
    if (byte < 0x80) {
      if (byte === 0 && p > start) throw new CarError(`CAR ${what} varint is not minimally encoded`);
      input.skip(p + 1 - start);
      state.take(p + 1 - start);
      return value;
    }
  }
  if (end - start === 8) throw new CarError(`CAR ${what} varint is longer than 8 bytes`);
  return undefined;
}

/**
 * Unsigned LEB128, minimal, at most 8 bytes (lengths here are far below 2^53). Returns null on a
 * clean end of input before the first byte.
 */
async function readVarint(input: ChunkInput, state: ReadState, what: string): Promise<number | null> {
  if (input.available === 0 && !(await input.more())) return null;
  let value = 0;
  for (let i = 0; ; i++) {
    if (i === 8) throw new CarError(`CAR ${what} varint is longer than 8 bytes`);
    if (input.available === 0 && !(await input.more())) throw new CarError(`CAR is truncated inside a ${what} varint`);
    const byte = input.takeByte();
    value += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) {
      if (byte === 0 && i > 0) throw new CarError(`CAR ${what} varint is not minimally encoded`);
      state.take(i + 1);
      return value;
    }
  }
}

/** Buffers input chunks just enough to hand out contiguous byte ranges. */
class ChunkInput {
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #iter: AsyncIterator<Uint8Array> | Iterator<Uint8Array> | null;
  #done = false;

  constructor(source: ByteSource) {
    if (source instanceof Uint8Array) {
      this.#buf = source;
      this.#iter = null;
      this.#done = true;
    } else if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) {
      this.#iter = source[Symbol.asyncIterator]();
    } else if (source !== null && typeof source === 'object' && Symbol.iterator in source) {
      this.#iter = (source as Iterable<Uint8Array>)[Symbol.iterator]();
    } else {
      throw new CarError('CAR source must be bytes or an iterable of byte chunks');
    }
  }

  /** The source has no more chunks: what is buffered is all there is. */
  get ended(): boolean {
    return this.#done;
  }

  get available(): number {
    return this.#buf.length - this.#pos;
  }

  get buffer(): Uint8Array {
    return this.#buf;
  }

  get position(): number {
    return this.#pos;
  }

  skip(n: number): void {
    this.#pos += n;
  }

  takeByte(): number {
    return this.#buf[this.#pos++];
  }

  /** `n` bytes that are known to be available, as a view (no copy). */
  take(n: number): Uint8Array {
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Pulls one more non-empty chunk onto the buffer; false at the end of input. */
  async more(): Promise<boolean> {
    const chunk = await this.#next();
    if (chunk === null) return false;
    this.#buf = this.available === 0 ? chunk : Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
    this.#pos = 0;
    return true;
  }

  /** Buffers at least `n` bytes, concatenating once however many chunks that takes. */
  async fill(n: number, what: string): Promise<void> {
    const parts = [this.#buf.subarray(this.#pos)];
    let total = parts[0].length;
    while (total < n) {
      const chunk = await this.#next();
      if (chunk === null) throw new CarError(`CAR is truncated inside a ${what}: needed ${n} bytes, got ${total}`);
      parts.push(chunk);
      total += chunk.length;
    }
    this.#buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
    this.#pos = 0;
  }

  async close(): Promise<void> {
    const iter = this.#iter;
    this.#iter = null;
    if (iter !== null && !this.#done) {
      this.#done = true;
      await iter.return?.();
    }
  }

  async #next(): Promise<Uint8Array | null> {
    while (!this.#done && this.#iter !== null) {
      const r = await this.#iter.next();
      if (r.done) {
        this.#done = true;
        break;
      }
      const chunk: unknown = r.value;
      if (!(chunk instanceof Uint8Array)) throw new CarError('CAR source yielded something other than bytes');
      if (chunk.length > 0) return chunk;
    }
    return null;
  }
}
