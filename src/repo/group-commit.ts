import type { Database } from '../db/index.ts';

interface Pending {
  apply: () => unknown;
  /** Called as soon as the group's transaction has ended: with true once it committed the write (not yet fsynced), with false if the write or the transaction failed. */
  settled: ((committed: boolean) => void) | undefined;
  /** `apply` only changes the database, so it may run again after its transaction rolled back. */
  rerunnable: boolean;
  /** performance.now() when the write was queued. */
  queuedAt: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: writes that arrive while the event loop is busy are applied together in one
 * SQLite transaction, so they share one fsync. Each write runs under its own savepoint, so one
 * failing write rolls back alone and the others still commit; a group made only of rerunnable
 * writes first runs without savepoints (see #applyGroup). A write's promise settles only
 * once its changes are durable: the COMMIT returned and the WAL was then fsynced (off the event
 * loop; see Database.syncWal).
 *
 * While a group's fsync is in flight, the next group collects writes instead of committing at
 * once: a write that arrives then cannot be durable before the fsync after the current one
 * anyway, so committing it early only splits the writers into more, smaller transactions (each
 * COMMIT rewrites the shared pages: the sequencer, the roots, the index interiors).
 */
export class GroupCommitter {
  #queue: Pending[] = [];
  #scheduled = false;
  #stats = { transactions: 0, writes: 0, reruns: 0 };
  /** Writes being prepared (signing, hashing) that will join a group soon. */
  #preparing = 0;
  #firstQueuedAt = 0;
  /** A group's fsync is running; the next group waits for it. */
  #syncing = false;
  /** Waiting in `idle()` for the running fsync to end. */
  #idleWaiters: Array<() => void> = [];
  readonly #durable: Array<(watermark: number) => void> = [];
  #observer: CommitObserver | undefined;

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 256,
    /** How long a group may wait for writes still being prepared, in ms. */
    private readonly maxWaitMs = 2,
    /** Read after each group commits (e.g. the latest firehose seq); passed to `onDurable` listeners once that group is durable. */
    private readonly watermark?: () => number,
  ) {}

  /** Calls `listener` with the watermark of each group once it is on stable storage. */
  onDurable(listener: (watermark: number) => void): void {
    this.#durable.push(listener);
  }

  /** Reports each group (metrics); one observer. */
  observe(observer: CommitObserver): void {
    this.#observer = observer;
  }

  /**
   * Announces a write that will call `run` shortly. While announced writes are still on their
   * way, a group waits for them (up to `maxWaitMs`), so concurrent writers share one fsync
   * instead of each paying for its own. Call the returned function once the write has been
   * queued or has failed.
   */
  announce(): () => void {
    this.#preparing++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#preparing--;
    };
  }

  /**
   * Queues `apply` (synchronous database work) for the next group; resolves with its result once
   * it is durable. `settled`, if given, hears earlier, synchronously as the group's transaction
   * ends, whether it committed this write: what the write changed is then visible to the next
   * reader (the repo write path lets the next commit of the same repo start from it).
   *
   * `rerunnable`: `apply` changes nothing but the database (no state in memory, no events), so
   * it may be applied a second time after its group's transaction rolled back.
   */
  run<T>(apply: () => T, settled?: (committed: boolean) => void, opts: { rerunnable?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const now = performance.now();
      if (this.#queue.length === 0) this.#firstQueuedAt = now;
      this.#queue.push({ apply, settled, rerunnable: opts.rerunnable ?? false, queuedAt: now, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#maybeFlush());
      }
    });
  }

  /**
   * Whether a group's fsync is running: a write queued now joins the group after it, which
   * starts once the fsync has ended.
   */
  get syncing(): boolean {
    return this.#syncing;
  }

  /** Writes queued for the next group. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Resolves once no fsync is running (at once if none is). A write queued from the promise's
   * continuation, without waiting for anything else, still joins the group that starts then.
   */
  idle(): Promise<void> {
    if (!this.#syncing) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Groups committed, writes in them, and groups applied a second time under savepoints (see #applyGroup). */
  get stats(): { transactions: number; writes: number; reruns: number } {
    return { ...this.#stats };
  }

  #maybeFlush(): void {
    if (this.#syncing) return; // the fsync's completion flushes
    const waiting = this.#preparing > this.#queue.length && this.#queue.length < this.maxBatch;
    if (waiting && performance.now() - this.#firstQueuedAt < this.maxWaitMs) {
      setImmediate(() => this.#maybeFlush());
      return;
    }
    this.#flush();
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue.splice(0, this.maxBatch);
    const observer = this.#observer;
    if (observer) {
      const now = performance.now();
      for (const item of batch) observer.queueWait((now - item.queuedAt) / 1000);
    }
    let outcomes: Outcome[];
    let watermark: number | undefined;
    try {
      ({ outcomes, watermark } = this.#applyGroup(batch));
    } catch (error) {
      // The COMMIT itself failed (disk full, I/O error): nothing of this group is durable.
      for (const item of batch) item.settled?.(false);
      for (const item of batch) item.reject(error);
      this.#afterSync();
      return;
    }
    batch.forEach((item, i) => item.settled?.(outcomes[i].ok));
    this.#stats.transactions++;
    this.#stats.writes += batch.length;
    observer?.group(batch.length);
    // Acknowledge only once the WAL holding this group is on stable storage.
    this.#syncing = true;
    const synced = this.db.syncWal();
    synced.then(
      () => this.#afterSync(),
      () => this.#afterSync(),
    );
    synced.then(
      () => {
        if (watermark !== undefined) for (const listener of this.#durable) listener(watermark);
        batch.forEach((item, i) => {
          const outcome = outcomes[i];
          if (outcome.ok) item.resolve(outcome.value);
          else item.reject(outcome.error);
        });
      },
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
  }

  /**
   * Applies a group in one transaction and returns each write's outcome; throws only if the
   * transaction itself failed. A savepoint per write lets one failing write roll back alone, but
   * costs every page a write changes a copy into the statement journal (perf: 1.9% of a
   * createRecord's server CPU, 0.9% without). So a group made only of rerunnable writes runs
   * without them first: if one of its writes throws, the whole transaction rolls back and the
   * group is applied again, each write under its savepoint, as any other group is (the failing
   * write fails again there, from the same state).
   *
   * The watermark is read inside the transaction, after the group's writes: the answer it would
   * give after the COMMIT (this process is the only writer), without a read transaction of its own.
   */
  #applyGroup(batch: Pending[]): { outcomes: Outcome[]; watermark: number | undefined } {
    let watermark: number | undefined;
    if (batch.every((item) => item.rerunnable)) {
      const outcomes: Outcome[] = [];
      let failed: { error: unknown } | undefined;
      try {
        this.db.transactionUnsynced(() => {
          for (const item of batch) {
            try {
              outcomes.push({ ok: true, value: item.apply() });
            } catch (error) {
              failed = { error };
              throw error;
            }
          }
          watermark = this.watermark?.();
        });
        return { outcomes, watermark };
      } catch (error) {
        if (failed === undefined) throw error; // the COMMIT failed
        // a write on its own has nothing to apply again: the transaction's rollback undid it
        if (batch.length === 1) return { outcomes: [{ ok: false, error: failed.error }], watermark: this.watermark?.() };
        this.#stats.reruns++;
      }
    }
    const outcomes: Outcome[] = [];
    this.db.transactionUnsynced(() => {
      for (const item of batch) {
        try {
          outcomes.push({ ok: true, value: this.db.savepoint(item.apply) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      watermark = this.watermark?.();
    });
    return { outcomes, watermark };
  }

  /** The fsync is done (the acknowledgements go out first): what queued meanwhile becomes the next group. */
  #afterSync(): void {
    this.#syncing = false;
    // the next group starts on a later turn of the event loop (setImmediate, here or in `run`):
    // what the waiters queue in their continuations (microtasks) joins it
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
    if (this.#queue.length > 0) {
      this.#scheduled = true;
      this.#firstQueuedAt = performance.now();
      setImmediate(() => this.#maybeFlush());
    }
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** What the group committer reports to metrics. */
export interface CommitObserver {
  /** Seconds a write waited in the queue before its group started. */
  queueWait(seconds: number): void;
  /** A group committed with this many writes. */
  group(writes: number): void;
}
