// Limits of streamed answers (repo exports, blob downloads): how many run at once, in all and per
// client, and how long one may last. A stream holds something for as long as it runs (a SQLite
// read snapshot, which keeps the WAL from being checkpointed; a file descriptor), so a client that
// stops reading must not be able to hold it forever: a stream that makes no progress for
// `idleTimeoutMs`, or runs longer than `maxDurationMs`, is cut off and its source closed.
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { Readable, Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { RateLimitExceededError } from './errors.ts';

export interface StreamLimitOptions {
  /** Longest time without a chunk accepted by the client (PDS_STREAM_IDLE_TIMEOUT, ms). */
  idleTimeoutMs: number;
  /** Longest a stream may run in all (PDS_STREAM_MAX_DURATION, ms). */
  maxDurationMs: number;
  /** Streams running at once, all clients together (PDS_STREAM_MAX_CONCURRENT). */
  maxConcurrent: number;
  /** Streams running at once for one client (PDS_STREAM_MAX_CONCURRENT_PER_CLIENT). */
  maxConcurrentPerClient: number;
}

/** The defaults the config falls back to (one minute idle, half an hour in all, 64 at once, 10 per client). */
export const STREAM_LIMIT_DEFAULTS: StreamLimitOptions = { idleTimeoutMs: 60_000, maxDurationMs: 30 * 60_000, maxConcurrent: 64, maxConcurrentPerClient: 10 };

/** How a stream ended: sent to its end, or cut by a limit. */
export type StreamOutcome = 'complete' | 'idle' | 'too-long';

export type StreamSlot = { ok: true; release: () => void } | { ok: false; scope: 'server' | 'client' };

export class StreamLimits {
  readonly options: StreamLimitOptions;
  /** Running streams per client; an entry lives only while its client has one, so at most `maxConcurrent`. */
  readonly #perClient = new Map<string, number>();
  #active = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(options: StreamLimitOptions) {
    this.options = options;
  }

  /** Streams running now. */
  get active(): number {
    return this.#active;
  }

  /** Takes a slot for `client`, or says which cap is reached. Release exactly once (a second call is ignored). */
  acquire(client: string): StreamSlot {
    if (this.#active >= this.options.maxConcurrent) return { ok: false, scope: 'server' };
    const mine = this.#perClient.get(client) ?? 0;
    if (mine >= this.options.maxConcurrentPerClient) return { ok: false, scope: 'client' };
    this.#perClient.set(client, mine + 1);
    this.#active++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        const left = (this.#perClient.get(client) ?? 1) - 1;
        if (left === 0) this.#perClient.delete(client);
        else this.#perClient.set(client, left);
        if (this.#active === 0) this.#wakeIdle();
      },
    };
  }

  /** Resolves once no stream runs (tests and shutdown). */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Pipes `body` into `res` under the time limits. A limit that cut the stream is an outcome, not
   * an error (anything else, a client that went away included, rejects as before); the source is
   * closed either way, so an async generator's `finally` runs and a snapshot it opened is released.
   */
  async pipe(body: Readable | AsyncIterable<Uint8Array>, res: ServerResponse): Promise<StreamOutcome> {
    const source = body instanceof Readable ? body : Readable.from(body);
    let cut: StreamOutcome | undefined;
    const stop = (why: StreamOutcome) => {
      if (cut !== undefined) return;
      cut = why;
      res.destroy();
    };
    const idle = setTimeout(() => stop('idle'), this.options.idleTimeoutMs);
    const deadline = setTimeout(() => stop('too-long'), this.options.maxDurationMs);
    try {
      // Progress is a chunk handed on to the response, which happens only while the client reads.
      if (recycles(source)) {
        await writeRecycling(source, res, () => idle.refresh());
      } else {
        const progress = new Transform({
          transform: (chunk, _encoding, callback) => {
            idle.refresh();
            callback(null, chunk);
          },
        });
        await pipeline(source, progress, res);
      }
      return 'complete';
    } catch (err) {
      // The source is closed (its `finally` has run, its snapshot is released) before anyone hears of it.
      source.destroy();
      if (!source.closed) await once(source, 'close');
      if (cut !== undefined) return cut;
      throw err;
    } finally {
      clearTimeout(idle);
      clearTimeout(deadline);
    }
  }
}

/**
 * A streamed body whose chunks are buffers it wants back once they are written out (a blob read
 * into a pool's buffers, see blobs/pooled-file-stream.ts).
 */
export interface RecyclingBody {
  recycle(chunk: Uint8Array): void;
}

function recycles(source: Readable): source is Readable & RecyclingBody {
  return typeof (source as Partial<RecyclingBody>).recycle === 'function';
}

/**
 * Sends a recycling body: each chunk is written, and handed back only once the socket's write has
 * completed (the kernel has its bytes), so a reused buffer is never refilled while the answer
 * still needs it. One chunk is in flight at a time while the source reads the next, which is what
 * backpressure allowed anyway (a 64 KB chunk is above the response's write buffer). A chunk whose
 * write fails, or is still pending when the client goes, is not handed back.
 *
 * The source flows one chunk at a time (paused while its chunk is written): an async iterator
 * would read whatever is buffered as one concatenated chunk, and destroys its source with an
 * AbortError when the loop throws.
 */
function writeRecycling(source: Readable & RecyclingBody, res: ServerResponse, progress: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('close', onClose);
      // The 'error' listener stays: a read that fails after this must not go unheard.
      if (err === undefined) return resolve();
      // As pipeline does: an answer whose body failed is cut off, never left open short of its length.
      res.destroy();
      reject(err);
    };
    const onData = (chunk: Uint8Array) => {
      source.pause();
      written(res, chunk).then(() => {
        if (settled) return;
        source.recycle(chunk);
        progress();
        source.resume();
      }, settle);
    };
    const onEnd = () => {
      res.end();
      finished(res).then(() => settle(), settle);
    };
    const onClose = () => {
      if (!source.readableEnded) settle(prematureClose('The body closed before its end'));
    };
    source.on('error', settle);
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('close', onClose);
  });
}

function prematureClose(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/** Resolves once `chunk` is written to the socket; rejects if the write fails or the answer closes first. */
function written(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = () => reject(prematureClose('The answer closed before its body was sent'));
    res.once('close', onClose);
    res.write(chunk, (err) => {
      res.off('close', onClose);
      if (!err) return resolve();
      // A failed write is a connection that is going (reset, or already destroyed): close the
      // answer now, so whoever hears of the failure sees the socket gone, as after a pipeline.
      res.destroy();
      reject(err);
    });
  });
}

/** The 429 for a stream refused a slot, saying which cap it met. */
export function tooManyStreams(scope: 'server' | 'client'): RateLimitExceededError {
  const who = scope === 'client' ? 'this client has' : 'the server has';
  return new RateLimitExceededError(`Too many downloads at once: ${who} as many running as it may; try again when one has finished`, { 'Retry-After': '1' });
}

/** Closes a body that will not be sent (a stream refused before it started). */
export function discardBody(body: Readable | AsyncIterable<Uint8Array> | Uint8Array): void {
  if (body instanceof Readable) body.destroy();
  else if (!(body instanceof Uint8Array) && typeof (body as AsyncGenerator<Uint8Array>).return === 'function') {
    void (body as AsyncGenerator<Uint8Array>).return(undefined).catch(() => {});
  }
}
