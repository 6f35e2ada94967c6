import BetterSqlite3 from 'better-sqlite3';
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WalCheckpointer, type CheckpointPolicy } from './wal-checkpointer.ts';

export type SqliteHandle = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement;

/**
 * The SQLite database of the PDS, in WAL mode.
 *
 * Durability: ordinary transactions run with `synchronous = FULL`, which fsyncs the WAL at every
 * COMMIT, so a transaction that returned survives a crash or a power loss. The write path's group
 * commit uses `transactionUnsynced` + `syncWal` instead: the COMMIT appends its frames to the WAL
 * without waiting for the disk, then the WAL file is fsynced on libuv's thread pool, and only
 * after that fsync are the writes acknowledged. The guarantee is the same (every acknowledged
 * commit's frames, commit marker included, are on stable storage, and SQLite's WAL recovery
 * replays them), but the event loop keeps serving requests during the fsync, and one fsync
 * covers every group committed before it started.
 */
/** Transaction control, prepared once: better-sqlite3's `transaction(fn)` builds five wrapper functions per call. */
interface TxStatements {
  beginImmediate: Statement;
  commit: Statement;
  rollback: Statement;
  savepoint: Statement;
  release: Statement;
  rollbackTo: Statement;
  syncNormal: Statement;
  syncFull: Statement;
}

/** WAL pages between automatic checkpoints (SQLite's default is 1,000). */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * With checkpoints in a worker (see WalCheckpointer): the worker copies once 10,000 frames wait,
 * the event loop finishes once at most 64 do, and SQLite's automatic checkpoint stays on only as
 * a backstop, four times further out (should the worker fall behind a burst of writes).
 */
const BACKGROUND_CHECKPOINTS: CheckpointPolicy = { workerFrames: WAL_AUTOCHECKPOINT_PAGES, restartFrames: WAL_AUTOCHECKPOINT_PAGES, finishBacklog: 64 };
const BACKSTOP_AUTOCHECKPOINT_PAGES = 4 * WAL_AUTOCHECKPOINT_PAGES;

/** This connection's page cache (see the constructor); a bulk copy (`withAttached`) keeps it. */
const CACHE_KB = 8000;
/** The page cache of a file attached for a bulk copy (see `withAttached`). */
const ATTACHED_CACHE_KB = 2048;

export class Database {
  readonly #db: SqliteHandle;
  readonly #statements = new Map<string, Statement>();
  #tx: TxStatements | undefined;
  #closed = false;
  #wal: FileHandle | undefined;
  #syncing: Promise<void> | undefined;
  #attached: Promise<unknown> = Promise.resolve();
  #nextSync: Promise<void> | undefined;
  /** Called with the seconds each WAL fsync took (metrics). */
  onWalSync: ((seconds: number) => void) | undefined;
  /** Called with each checkpoint of the WAL made in the background mode: where it ran and how long it took (metrics). */
  onCheckpoint: ((where: 'worker' | 'event-loop', seconds: number) => void) | undefined;
  /** Called once if the checkpoint worker fails (SQLite's automatic checkpoints are then back on). */
  onCheckpointerFailure: ((err: Error) => void) | undefined;
  readonly #checkpointer: WalCheckpointer | undefined;

  /**
   * `backgroundCheckpoints` (the server's database): the WAL is checkpointed by a worker thread
   * instead of in the COMMIT that crosses the threshold (see WalCheckpointer); `true` for the
   * server's policy, or a policy of its own (tests).
   */
  constructor(readonly file: string, options: { readonly?: boolean; backgroundCheckpoints?: boolean | CheckpointPolicy } = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.#db = new BetterSqlite3(file, { readonly: options.readonly ?? false });
    try {
      this.#configure();
    } catch (err) {
      this.#db.close(); // not a database, or a damaged one: the first pragma reads its header
      throw err;
    }
    const background = options.backgroundCheckpoints;
    if (background && file !== ':memory:' && !options.readonly) {
      this.#db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
      this.#checkpointer = new WalCheckpointer(file, background === true ? BACKGROUND_CHECKPOINTS : background, {
        finish: () => {
          if (this.#db.inTransaction) return false;
          this.#db.pragma('wal_checkpoint(PASSIVE)');
          return true;
        },
        fallback: (err) => {
          if (!this.#closed) this.#db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
          this.onCheckpointerFailure?.(err);
        },
        observe: (where, seconds) => this.onCheckpoint?.(where, seconds),
      });
    }
  }

  /** Checkpoints made in the background mode: by the worker, and finished on this connection. */
  get checkpoints(): { worker: number; finished: number } {
    return { ...(this.#checkpointer?.stats ?? { worker: 0, finished: 0 }) };
  }

  #configure(): void {
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.pragma('foreign_keys = ON');
    // An 8 MB page cache, not 32: every COMMIT that split a B-tree page scans the whole cache.
    // SQLite (3.54) swaps a split's pages through the page number just past 1 GB (the lock-byte
    // page); that becomes the cache's largest key, and the end of the transaction then walks
    // every cached page to drop those past the end of a database smaller than 1 GB. With 32 MB,
    // ~5,700 cached pages: 5.8% of a createRecord's server CPU (perf); with 8 MB 1.9%, for
    // ~0.4% more in page reads (a miss is a pread from the OS's cache). 4 MB: no better.
    this.#db.pragma(`cache_size = -${CACHE_KB}`);
    // Checkpoint the WAL every 10,000 pages (~40 MB) instead of SQLite's 1,000: a checkpoint
    // writes each page it finds once, however many commits changed it, so rarer checkpoints
    // rewrite the hot pages (index tails, the sequencer, repo roots) far less often, and pay their
    // two fsyncs ten times less. applyWrites of 10 creates: 3.48 -> 2.58 ms CPU per call, +42%
    // calls/s, write calls 180 -> 146 per call (bench/write-cost.ts, 3 rounds side by side).
    this.#db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    // Statement journals and other temporary data in memory: with temp files, each createRecord
    // made twice the write calls (47 -> 91 per op) and cost ~9% more CPU (bench/write-cost.ts).
    // A bulk copy (withAttached, an import replacing a large repo) switches to files for its
    // duration: its statement journal holds every pre-existing page it changes, hundreds of MB.
    this.#db.pragma('temp_store = MEMORY');
  }

  /** A cached prepared statement: preparing once per SQL text, not per call. */
  prepare(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction (the write lock is taken up front, so two writers
   * never deadlock upgrading a read lock). Nested calls join the outer transaction.
   */
  transaction<T>(fn: () => T): T {
    if (this.#db.inTransaction) return fn();
    const result = this.#db.transaction(fn).immediate();
    this.#checkpointer?.committed();
    return result;
  }

  /**
   * Runs `fn` inside the current transaction under a SAVEPOINT: if it throws, only its own
   * changes are rolled back and the enclosing transaction carries on (group commit needs this).
   */
  savepoint<T>(fn: () => T): T {
    if (!this.#db.inTransaction) throw new Error('savepoint needs an open transaction');
    const tx = this.#txStatements();
    tx.savepoint.run();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      // SQLite may have rolled the whole transaction back itself (SQLITE_FULL, ...): then there is no savepoint left.
      if (this.#db.inTransaction) {
        tx.rollbackTo.run();
        tx.release.run();
      }
      throw err;
    }
    tx.release.run();
    return result;
  }

  /**
   * Like `transaction`, but the COMMIT does not fsync (synchronous = NORMAL for this one
   * transaction). Nothing it wrote may be acknowledged before `syncWal()` has resolved.
   */
  transactionUnsynced<T>(fn: () => T): T {
    if (this.#db.inTransaction) throw new Error('transactionUnsynced cannot be nested');
    const tx = this.#txStatements();
    tx.syncNormal.run();
    let result: T;
    try {
      tx.beginImmediate.run();
      try {
        result = fn();
        tx.commit.run();
      } catch (err) {
        if (this.#db.inTransaction) tx.rollback.run();
        throw err;
      }
    } finally {
      tx.syncFull.run();
    }
    this.#checkpointer?.committed();
    return result;
  }

  #txStatements(): TxStatements {
    this.#tx ??= {
      beginImmediate: this.#db.prepare('BEGIN IMMEDIATE'),
      commit: this.#db.prepare('COMMIT'),
      rollback: this.#db.prepare('ROLLBACK'),
      savepoint: this.#db.prepare('SAVEPOINT squall_write'),
      release: this.#db.prepare('RELEASE squall_write'),
      rollbackTo: this.#db.prepare('ROLLBACK TO squall_write'),
      syncNormal: this.#db.prepare('PRAGMA synchronous = NORMAL'),
      syncFull: this.#db.prepare('PRAGMA synchronous = FULL'),
    };
    return this.#tx;
  }

  /**
   * Resolves once everything committed before the call is on stable storage (an fsync of the
   * WAL file on the thread pool). Calls that arrive while an fsync runs share the next one.
   */
  syncWal(): Promise<void> {
    if (!this.#syncing) {
      this.#syncing = this.#fsyncWal().finally(() => {
        this.#syncing = undefined;
      });
      return this.#syncing;
    }
    // The fsync in flight may have started before the caller's COMMIT: wait for the next one.
    this.#nextSync ??= this.#syncing.then(
      () => {
        this.#nextSync = undefined;
        return this.syncWal();
      },
      () => {
        this.#nextSync = undefined;
        return this.syncWal();
      },
    );
    return this.#nextSync;
  }

  async #fsyncWal(): Promise<void> {
    if (!this.#wal) {
      this.#wal = await open(`${this.file}-wal`, 'r');
      // The WAL file's directory entry must be durable too (once, when it is first opened).
      const dir = openSync(dirname(this.file), 'r');
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    }
    const started = performance.now();
    // fdatasync: the WAL's data and what is needed to read it back (its size), not its times. Once
    // the first checkpoint has let SQLite write the WAL again from its start, its size no longer
    // changes, and fsync would still commit the file system's journal for the new mtime each time.
    await this.#wal.datasync();
    this.onWalSync?.((performance.now() - started) / 1000);
  }

  /**
   * Runs `fn` with the SQLite file `file` attached to this connection as `alias`, so that one
   * statement can copy rows between the two without passing them through JavaScript. Attaching
   * and detaching happen outside any transaction; attachments are made one at a time (SQLite
   * allows few at once), so a second caller waits for the first to detach.
   *
   * Meanwhile temporary data goes to files (see the constructor) and both page caches are small
   * (the attached file's ATTACHED_CACHE_KB, this connection's its usual CACHE_KB): the attached
   * file is read once, in order, and the copied pages are written once; with larger caches (this
   * connection's was 32 MB, switched to 8 MB for the copy until both were 8 MB) the copy grew the
   * process by their size (measured: +25 MB for an import of 100,000 records, +7 MB with these;
   * no slower).
   */
  withAttached<T>(file: string, alias: string, fn: () => Promise<T>): Promise<T> {
    if (!/^[a-z_][a-z0-9_]*$/.test(alias)) throw new Error(`not a database alias: ${alias}`);
    const run = async () => {
      this.#db.pragma('temp_store = FILE');
      try {
        this.#db.prepare(`ATTACH DATABASE ? AS ${alias}`).run(file);
        this.#db.pragma(`${alias}.cache_size = -${ATTACHED_CACHE_KB}`);
        try {
          return await fn();
        } finally {
          this.#db.prepare(`DETACH DATABASE ${alias}`).run();
        }
      } finally {
        this.#db.pragma('temp_store = MEMORY');
      }
    };
    const result = this.#attached.then(run, run);
    this.#attached = result.catch(() => {});
    return result;
  }

  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  /** The raw handle, for storage modules only (block stores, migrations); never for handlers. */
  get handle(): SqliteHandle {
    return this.#db;
  }

  /** Checks the database accepts writes without writing anything. */
  checkWritable(): void {
    this.#db.exec('BEGIN IMMEDIATE');
    this.#db.exec('ROLLBACK');
  }

  /**
   * A separate read-only connection inside one read transaction: a consistent snapshot for long
   * reads (repo exports) while writes go on through the main connection. Close it when done.
   */
  openSnapshot(): { handle: SqliteHandle; close(): void } {
    const reader = new BetterSqlite3(this.file, { readonly: true });
    reader.pragma('busy_timeout = 5000');
    reader.exec('BEGIN');
    // The snapshot starts at the first read, so take it now.
    reader.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get();
    let closed = false;
    return {
      handle: reader,
      close() {
        if (closed) return;
        closed = true;
        try {
          reader.exec('COMMIT');
        } finally {
          reader.close();
        }
      },
    };
  }

  sizeBytes(): number {
    const pages = this.#db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
    return pages * pageSize;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#checkpointer?.close();
    this.#statements.clear();
    this.#tx = undefined;
    void this.#wal?.close().catch(() => {});
    this.#wal = undefined;
    try {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A failed checkpoint loses nothing: the WAL is replayed at the next open.
    }
    this.#db.close();
  }
}
