import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteHandle = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement;

/**
 * The SQLite database of the PDS. WAL journal with `synchronous = FULL`: in WAL mode FULL
 * fsyncs the log at every commit, so a transaction that returned is on disk and survives a
 * crash or power loss (NORMAL would only survive a process crash). The cost of that fsync is
 * shared by group commit in the write path, not avoided by weakening durability.
 */
export class Database {
  readonly #db: SqliteHandle;
  readonly #statements = new Map<string, Statement>();
  #closed = false;

  constructor(readonly file: string, options: { readonly?: boolean } = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.#db = new BetterSqlite3(file, { readonly: options.readonly ?? false });
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = FULL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('temp_store = MEMORY');
    this.#db.pragma('cache_size = -32000');
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
    return this.#db.transaction(fn).immediate();
  }

  /**
   * Runs `fn` inside the current transaction under a SAVEPOINT: if it throws, only its own
   * changes are rolled back and the enclosing transaction carries on (group commit needs this).
   */
  savepoint<T>(fn: () => T): T {
    if (!this.#db.inTransaction) throw new Error('savepoint needs an open transaction');
    return this.#db.transaction(fn)();
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
    this.#statements.clear();
    try {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A failed checkpoint loses nothing: the WAL is replayed at the next open.
    }
    this.#db.close();
  }
}
