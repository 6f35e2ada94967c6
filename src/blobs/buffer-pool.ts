/**
 * Read buffers of one size, lent out and taken back, so serving blob bytes does not allocate a
 * fresh buffer for every read. Each fresh buffer is memory outside V8's heap that V8 still counts,
 * and it starts a full collection for about every 64 MB of them: serving 60 MB of blobs cost one to
 * three full collections of 3-14 ms, each pausing every request (docs/benchmarks.md, issue 18).
 *
 * A buffer is lent by `take()` and may come back through `give()` only once whoever holds it is
 * done with every byte (for an HTTP answer: once the socket's write has completed). One never given
 * back is simply collected. The free list is bounded: at most `maxFree` buffers wait, so the pool
 * holds at most `size * maxFree` bytes when nothing is being served.
 */
export class BufferPool {
  readonly size: number;
  readonly maxFree: number;
  readonly #free: Buffer[] = [];
  /** Buffers lent out, by their memory, so a chunk cut from one finds it and a second give is ignored. */
  readonly #lent = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(size: number, maxFree: number) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`BufferPool: size must be a positive integer, not ${size}`);
    if (!Number.isSafeInteger(maxFree) || maxFree < 0) throw new RangeError(`BufferPool: maxFree must be a non-negative integer, not ${maxFree}`);
    this.size = size;
    this.maxFree = maxFree;
  }

  /** A buffer of `size` bytes whose contents are whatever it last held. */
  take(): Buffer {
    // allocUnsafeSlow: a buffer with memory of its own, never a slice of Node's shared pool, so
    // its ArrayBuffer identifies it.
    const buffer = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
    this.#lent.set(buffer.buffer, buffer);
    return buffer;
  }

  /**
   * Takes back a lent buffer, or any view of one (the short last read of a file is a subarray).
   * A view of memory the pool did not lend, or a buffer already given back, is ignored.
   */
  give(chunk: Uint8Array): void {
    const buffer = this.#lent.get(chunk.buffer);
    if (buffer === undefined) return;
    this.#lent.delete(chunk.buffer);
    if (this.#free.length < this.maxFree) this.#free.push(buffer);
  }

  /** Buffers waiting to be lent again. */
  get free(): number {
    return this.#free.length;
  }
}
