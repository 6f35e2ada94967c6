import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SequencerLog, StoredEvent } from './sequencer-log.ts';

/** A stream-level error sent as an error frame (`FutureCursor`, ...). */
export class StreamError extends Error {
  constructor(
    readonly code: 'FutureCursor' | 'ConsumerTooSlow',
    message: string,
  ) {
    super(message);
  }
}

export type FirehoseMessage =
  | { type: '#commit' | '#sync' | '#identity' | '#account'; encoded: Uint8Array; seq: number }
  | { type: '#info'; body: { name: string; message?: string } };

const FRAME_TYPES = { commit: '#commit', sync: '#sync', identity: '#identity', account: '#account' } as const;

export interface FirehoseOptions {
  /** Events kept in memory for live subscribers; older ones are read from the log. */
  bufferSize: number;
  /** And at most this many bytes of them (an applyWrites of 200 records makes one event of ~100 KB). */
  bufferBytes: number;
  /** Rows read per query while backfilling. */
  pageSize: number;
}

/**
 * Serves the sequencer log to any number of subscribers with one reader: after each commit
 * the write path calls `notify()`, one query reads the new events into a shared ring buffer,
 * and every live subscriber takes them from there. A subscriber with a cursor pages through the
 * log until it reaches the buffer, then joins the live tail with no gap and no duplicate.
 */
export class Firehose {
  readonly #log: SequencerLog;
  readonly #options: FirehoseOptions;
  #buffer: StoredEvent[] = [];
  #bufferBytes = 0;
  /** Live subscriptions; with none, new events are not read into the buffer at all. */
  #subscribers = 0;
  #head: number;
  /** Events up to this seq are durable; none beyond it is ever sent. */
  #ceiling: number;
  #waiters: Array<() => void> = [];
  #reading = false;
  #dirty = false;
  #closed = false;
  /** Where each subscriber is (the last seq it was given), for the lag metric. */
  readonly #positions = new Set<{ last: number }>();
  #eventsRead = 0;
  #framesSent = 0;

  constructor(log: SequencerLog, options: Partial<FirehoseOptions> = {}) {
    this.#log = log;
    this.#options = { bufferSize: options.bufferSize ?? 10_000, bufferBytes: options.bufferBytes ?? 8 * 1024 * 1024, pageSize: options.pageSize ?? 500 };
    this.#head = log.latestSeq();
    // After a restart everything in the log is what survived: all of it is durable.
    this.#ceiling = this.#head;
  }

  /**
   * Raises the durable ceiling (called once a commit group's WAL fsync completed) and serves
   * the events up to it. Events a later, not yet durable group wrote are held back, so no
   * subscriber ever sees an event a power loss could take away.
   */
  advance(durableSeq: number): void {
    if (durableSeq > this.#ceiling) this.#ceiling = durableSeq;
    this.notify();
  }

  /** The newest seq the firehose has seen. */
  get head(): number {
    return this.#head;
  }

  /** Called after a transaction that appended events has committed. */
  notify(): void {
    if (this.#reading) {
      this.#dirty = true;
      return;
    }
    this.#reading = true;
    queueMicrotask(() => this.#read());
  }

  #read(): void {
    do {
      this.#dirty = false;
      if (this.#subscribers === 0) {
        // Nobody to serve: nothing is read back. The head moves to the durable ceiling, where a new
        // live subscriber starts; one with a cursor pages from the log.
        if (this.#head < this.#ceiling) this.#head = this.#ceiling;
        this.#buffer = [];
        this.#bufferBytes = 0;
        continue;
      }
      while (this.#head < this.#ceiling) {
        const events = this.#readDurable(this.#head);
        if (events.length === 0) break;
        for (const event of events) {
          this.#buffer.push(event);
          this.#bufferBytes += event.encoded.byteLength;
        }
        this.#eventsRead += events.length;
        this.#head = events[events.length - 1].seq;
      }
      this.#trimBuffer();
    } while (this.#dirty);
    this.#reading = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** What the shared buffer holds now (for tests and the admin status). */
  get buffered(): { events: number; bytes: number } {
    return { events: this.#buffer.length, bytes: this.#bufferBytes };
  }

  /** Trims in chunks, not on every event, so a full buffer is not copied at each commit. */
  #trimBuffer(): void {
    const { bufferSize, bufferBytes } = this.#options;
    if (this.#buffer.length <= bufferSize * 1.25 && this.#bufferBytes <= bufferBytes) return;
    let drop = Math.max(0, this.#buffer.length - bufferSize);
    let bytes = this.#bufferBytes;
    for (let i = 0; i < drop; i++) bytes -= this.#buffer[i].encoded.byteLength;
    // Down to three quarters of the byte bound, so a stream of large events does not trim on every read.
    while (drop < this.#buffer.length && bytes > bufferBytes * 0.75) bytes -= this.#buffer[drop++].encoded.byteLength;
    this.#buffer = this.#buffer.slice(drop);
    this.#bufferBytes = bytes;
  }

  #waitForEvents(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted || this.#closed) return resolve();
      const wake = () => {
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.#waiters.push(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** Durable events after `after`, from the log, at most a page. */
  #readDurable(after: number): StoredEvent[] {
    const events = this.#log.readAfter(after, this.#options.pageSize);
    let end = events.length;
    while (end > 0 && events[end - 1].seq > this.#ceiling) end--;
    return end === events.length ? events : events.slice(0, end);
  }

  /** Events after `after` from the shared buffer, or undefined if the buffer no longer reaches back that far. */
  #fromBuffer(after: number): StoredEvent[] | undefined {
    const buffer = this.#buffer;
    if (buffer.length === 0) return after >= this.#head ? [] : undefined;
    if (buffer[0].seq > after + 1) return undefined;
    let lo = 0;
    let hi = buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (buffer[mid].seq <= after) lo = mid + 1;
      else hi = mid;
    }
    return buffer.slice(lo);
  }

  /**
   * The stream for one subscriber. No cursor: from now on. A cursor: everything after it that
   * the log still holds (an `#info OutdatedCursor` first if some was pruned), then live.
   */
  async *subscribe(cursor: number | undefined, signal: AbortSignal): AsyncGenerator<FirehoseMessage> {
    this.#subscribers++;
    try {
      yield* this.#stream(cursor, signal);
    } finally {
      this.#subscribers--;
    }
  }

  async *#stream(cursor: number | undefined, signal: AbortSignal): AsyncGenerator<FirehoseMessage> {
    let last: number;
    let backfilled = 0;
    if (cursor === undefined) {
      last = this.#head;
    } else {
      const latest = Math.max(this.#ceiling, this.#log.latestSeq());
      if (cursor > latest) throw new StreamError('FutureCursor', 'Cursor in the future');
      last = cursor;
      const oldest = this.#log.oldest();
      if (oldest && cursor < oldest.seq - 1) {
        yield { type: '#info', body: { name: 'OutdatedCursor', message: 'Requested cursor exceeded limit. Possibly missing events' } };
        last = oldest.seq - 1;
      }
    }
    const position = { last };
    this.#positions.add(position);
    try {
      while (!signal.aborted && !this.#closed) {
        let events = this.#fromBuffer(position.last);
        if (events === undefined) {
          // Backfill from the log: a page per turn of the event loop, so subscribers replaying
          // from an old cursor take turns with each other and with every request being served.
          if (backfilled++ > 0) await nextTurn();
          if (signal.aborted || this.#closed) return;
          events = this.#readDurable(position.last);
        }
        if (events.length === 0) {
          await this.#waitForEvents(signal);
          continue;
        }
        for (const event of events) {
          if (signal.aborted) return;
          position.last = event.seq;
          this.#framesSent++;
          yield { type: FRAME_TYPES[event.type], encoded: event.encoded, seq: event.seq };
        }
      }
    } finally {
      this.#positions.delete(position);
    }
  }

  /**
   * For metrics: live subscribers, how far the furthest-behind one is from the head (events),
   * events read from the log for live serving, and frames handed to subscribers.
   */
  stats(): { subscribers: number; oldestLag: number; eventsRead: number; framesSent: number } {
    let oldest = this.#head;
    for (const position of this.#positions) if (position.last < oldest) oldest = position.last;
    return { subscribers: this.#subscribers, oldestLag: this.#head - oldest, eventsRead: this.#eventsRead, framesSent: this.#framesSent };
  }

  close(): void {
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
