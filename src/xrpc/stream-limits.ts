// Limits of streamed answers (repo exports, blob downloads): how many run at once, in all and per
// client, and how long one may last. A stream holds something for as long as it runs (a SQLite
// read snapshot, which keeps the WAL from being checkpointed; a file descriptor), so a client that
// stops reading must not be able to hold it forever: a stream that makes no progress for
// `idleTimeoutMs`, or runs longer than `maxDurationMs`, is cut off and its source closed.
import type { ServerResponse } from 'node:http';
import { once } from 'node:events';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
    // Progress is a chunk handed on to the response, which happens only while the client reads.
    const progress = new Transform({
      transform: (chunk, _encoding, callback) => {
        idle.refresh();
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, progress, res);
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
