import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import type { Worker as WorkerType } from 'node:worker_threads';

/**
 * Where a WAL stands, read from SQLite's wal-index (the `-shm` file; https://sqlite.org/walformat.html
 * §2.1-2.2): `frames` is the last valid frame (WalIndexHdr.mxFrame, at byte 16) and `backfilled`
 * how many of them a checkpoint has copied into the database (WalCkptInfo.nBackfill, at byte 96),
 * both in the host's byte order. The header is read without SQLite's locks, so a value may be a
 * moment old: good enough to decide when to checkpoint, never used for anything else.
 */
export interface WalProgress {
  frames: number;
  backfilled: number;
}

const WAL_INDEX_VERSION = 3007000;
/** Looks skipped after a worker checkpoint that could copy nothing (32 x `every` commits). */
const IDLE_LOOKS = 32;
const INDEX_BYTES = 100;

export class WalIndexReader {
  readonly #fd: number;
  readonly #buf = Buffer.alloc(INDEX_BYTES);
  readonly #read32 = endianness() === 'LE' ? (o: number) => this.#buf.readUInt32LE(o) : (o: number) => this.#buf.readUInt32BE(o);

  constructor(shmFile: string) {
    this.#fd = openSync(shmFile, 'r');
  }

  /** Undefined when the index is not there yet or not the format this reads (another SQLite). */
  read(): WalProgress | undefined {
    if (readSync(this.#fd, this.#buf, 0, INDEX_BYTES, 0) < INDEX_BYTES) return undefined;
    if (this.#read32(0) !== WAL_INDEX_VERSION || this.#buf[12] !== 1) return undefined; // iVersion, isInit
    return { frames: this.#read32(16), backfilled: this.#read32(96) };
  }

  close(): void {
    closeSync(this.#fd);
  }
}

export interface CheckpointPolicy {
  /** A worker checkpoint starts once this many frames wait to be copied into the database. */
  workerFrames: number;
  /**
   * Once the WAL holds this many frames and at most `finishBacklog` of them wait, the event loop
   * copies those few itself: a checkpoint that the writer runs between its transactions ends with
   * nothing left, so SQLite starts the WAL again from its beginning at the next write.
   */
  restartFrames: number;
  finishBacklog: number;
}

/**
 * The WAL's checkpoints, off the event loop. SQLite's own (automatic, in the COMMIT that crosses
 * the threshold) copied up to 10,000 pages into the database and fsynced it on the thread that
 * serves requests: 11-31 ms stalls every ~10,000 frames under sustained writes, growing with the
 * database. Here a worker thread with a connection of its own copies the frames (a PASSIVE
 * checkpoint: it never blocks the writer), and the event loop only ever finishes the last few.
 * A checkpoint fsyncs the WAL before it copies and the database after: what a reader or a crash
 * finds is unchanged.
 *
 * The worker starts with the first checkpoint it is needed for (a server that writes little
 * never starts one). Should it fail, SQLite's automatic checkpoints take over again
 * (`fallback`).
 */
export class WalCheckpointer {
  #worker: WorkerType | undefined;
  #index: WalIndexReader | undefined;
  #running = false;
  #failed = false;
  #closed = false;
  #commits = 0;
  /** Looks to skip after a worker checkpoint that could copy nothing (a reader's snapshot holds the WAL's frames). */
  #skip = 0;
  #backfilledBefore = 0;
  readonly stats = { worker: 0, finished: 0 };

  constructor(
    readonly file: string,
    private readonly policy: CheckpointPolicy,
    private readonly hooks: {
      /** Runs a PASSIVE checkpoint on the writer's connection, if it is between transactions (else false). */
      finish: () => boolean;
      /** The worker failed: SQLite's automatic checkpoints are back on. */
      fallback: (err: Error) => void;
      /** Each checkpoint: where it ran and how long it took. */
      observe?: (where: 'worker' | 'event-loop', seconds: number) => void;
    },
    /** Looks at the wal-index once every this many commits (one small read). */
    private readonly every = 8,
  ) {}

  /**
   * After each COMMIT on the writer's connection, outside any transaction of it. Never throws: the
   * commit it follows has happened, whatever becomes of a checkpoint.
   */
  committed(): void {
    if (++this.#commits % this.every === 0) this.#decideSafely();
  }

  #decideSafely(): void {
    try {
      this.#decide();
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #decide(): void {
    if (this.#running || this.#failed || this.#closed) return;
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    const progress = this.#progress();
    if (!progress) return;
    const waiting = progress.frames - progress.backfilled;
    if (progress.frames >= this.policy.restartFrames) {
      // time the WAL started again: the worker catches up with the writer, the event loop ends it
      if (waiting <= this.policy.finishBacklog) this.#finishHere();
      else this.#startWorker(progress);
    } else if (waiting >= this.policy.workerFrames) {
      this.#startWorker(progress);
    }
  }

  #progress(): WalProgress | undefined {
    try {
      this.#index ??= new WalIndexReader(`${this.file}-shm`);
      return this.#index.read();
    } catch {
      return undefined; // no -shm yet: nothing to checkpoint
    }
  }

  #finishHere(): void {
    const started = performance.now();
    if (!this.hooks.finish()) return;
    this.stats.finished++;
    this.hooks.observe?.('event-loop', (performance.now() - started) / 1000);
  }

  #startWorker(progress: WalProgress): void {
    this.#running = true;
    this.#backfilledBefore = progress.backfilled;
    const worker = (this.#worker ??= this.#spawn());
    worker.postMessage('checkpoint');
  }

  #spawn(): WorkerType {
    const script = new URL(import.meta.url.endsWith('.ts') ? './wal-checkpoint-worker.ts' : './wal-checkpoint-worker.js', import.meta.url);
    // node:worker_threads is loaded with the first checkpoint, not by every server at boot.
    const { Worker } = createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof WorkerType };
    const worker = new Worker(script, { workerData: { file: this.file } });
    worker.on('message', (message: { ok: true; seconds: number } | { ok: false; message: string }) => {
      this.#running = false;
      if (!message.ok) return this.#fail(new Error(`WAL checkpoint failed in its worker: ${message.message}`));
      this.stats.worker++;
      this.hooks.observe?.('worker', message.seconds);
      const after = this.#progress();
      // copied nothing: a reader's snapshot holds the frames, so try again later, not at once
      if (after && after.backfilled === this.#backfilledBefore) this.#skip = IDLE_LOOKS;
      // else what was written meanwhile may now be few enough to finish here
      else this.#decideSafely();
    });
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(new Error(`WAL checkpoint worker exited (${code})`));
    });
    // after the listeners, which would hold the process again: the worker never keeps it alive
    worker.unref();
    return worker;
  }

  /** The worker, or a checkpoint on the writer's connection, failed: SQLite's automatic checkpoints take over. */
  #fail(err: Error): void {
    if (this.#failed || this.#closed) return;
    this.#failed = true;
    this.#running = false;
    void this.#worker?.terminate();
    this.hooks.fallback(err);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.#worker?.terminate();
    this.#index?.close();
  }
}
