import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { BufferPool } from './buffer-pool.ts';

/**
 * A byte range of an open file as a stream of chunks read into a pool's buffers. It owns the file
 * handle and closes it when it ends or is destroyed (a read in flight finishes first: a FileHandle
 * closes once its pending operations are done).
 *
 * Its chunks are the pool's buffers, and one is reused only after `recycle(chunk)` hands it back:
 * the XRPC layer's stream pipe does, once the socket's write of it has completed. A consumer that
 * never calls it may keep its chunks; it only loses the reuse.
 */
export class PooledFileStream extends Readable {
  readonly #handle: FileHandle;
  readonly #pool: BufferPool;
  #position: number;
  /** One past the last byte to read. */
  readonly #end: number;

  /** Reads `start` through `end` (inclusive) of `handle`. */
  constructor(handle: FileHandle, start: number, end: number, pool: BufferPool) {
    super({ highWaterMark: pool.size });
    this.#handle = handle;
    this.#pool = pool;
    this.#position = start;
    this.#end = end + 1;
  }

  override _read(): void {
    const left = this.#end - this.#position;
    if (left <= 0) {
      this.push(null);
      return;
    }
    const buffer = this.#pool.take();
    const length = Math.min(buffer.length, left);
    this.#handle.read(buffer, 0, length, this.#position).then(
      ({ bytesRead }) => {
        if (this.destroyed) {
          this.#pool.give(buffer);
          return;
        }
        if (bytesRead === 0) {
          // The file is shorter than the range asked for (it was replaced or cut under us): an
          // answer that declared its length must fail, not end short and look complete.
          this.#pool.give(buffer);
          this.destroy(new Error(`file ended at byte ${this.#position}, before the ${this.#end} expected`));
          return;
        }
        this.#position += bytesRead;
        this.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
      },
      (err: unknown) => {
        this.#pool.give(buffer);
        this.destroy(err as Error);
      },
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#handle.close().then(
      () => callback(err),
      (closeErr: unknown) => callback(err ?? (closeErr as Error)),
    );
  }

  /** Hands back a chunk this stream produced, once nothing will read its bytes again. */
  recycle(chunk: Uint8Array): void {
    this.#pool.give(chunk);
  }
}
