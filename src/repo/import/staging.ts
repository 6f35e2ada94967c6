import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createPrivateFile } from '../../data-directory.ts';
import { join } from 'node:path';

type Statement = BetterSqlite3.Statement;

/** Staging files are named so; anything left with this name after a crash is garbage. */
const STAGING_PREFIX = 'repo-import-';

/**
 * Scratch space of one repo import: a SQLite file of its own in the temporary directory, written
 * without journal or fsync (if the process dies, the file is garbage and is deleted at the next
 * boot). Blocks arrive in any order, so they are parked here by CID, the tree is verified by
 * walking it from the root out of this file, and what the walk reached (the blocks, the record
 * index, the blob references) is listed here in order, ready to be copied into the account's
 * repo in one transaction. Memory stays bounded whatever the repo's size.
 */
export class ImportStaging {
  readonly file: string;
  readonly #db: BetterSqlite3.Database;
  readonly #s: {
    putBlock: Statement;
    reach: Statement;
    putRecord: Statement;
    putBlobRef: Statement;
    recordPage: Statement;
    blobRefPage: Statement;
  };
  #getBlock: Statement | undefined;
  #closed = false;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, `${STAGING_PREFIX}${randomBytes(8).toString('hex')}.sqlite`);
    createPrivateFile(this.file);
    const db = new BetterSqlite3(this.file);
    this.#db = db;
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('cache_size = -32000');
    // Rows are appended in arrival order; the CID index is built once all blocks are in (a sort is
    // several times faster than keeping a b-tree of random keys up to date row by row).
    db.exec(`
      CREATE TABLE block (cid TEXT NOT NULL, bytes BLOB NOT NULL);
      CREATE TABLE reached (cid TEXT NOT NULL);
      CREATE TABLE record (path TEXT PRIMARY KEY, cid TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE blob_ref (path TEXT NOT NULL, cid TEXT NOT NULL, PRIMARY KEY (path, cid)) WITHOUT ROWID;
    `);
    this.#s = {
      putBlock: db.prepare('INSERT INTO block (cid, bytes) VALUES (?, ?)'),
      reach: db.prepare('INSERT INTO reached (cid) VALUES (?)'),
      putRecord: db.prepare('INSERT INTO record (path, cid) VALUES (?, ?)'),
      putBlobRef: db.prepare('INSERT OR IGNORE INTO blob_ref (path, cid) VALUES (?, ?)'),
      recordPage: db.prepare('SELECT path, cid FROM record WHERE path > ? ORDER BY path LIMIT ?').raw(),
      blobRefPage: db.prepare('SELECT path, cid FROM blob_ref WHERE (path, cid) > (?, ?) ORDER BY path, cid LIMIT ?').raw(),
    };
  }

  /** Builds the CID index once every block is staged; `get` works only after this. */
  indexBlocks(): void {
    this.#db.exec('CREATE INDEX block_cid ON block (cid)');
    this.#getBlock = this.#db.prepare('SELECT bytes FROM block WHERE cid = ? LIMIT 1').pluck();
  }

  /** Runs `fn` in one transaction of the staging file (batches are much faster than single inserts). */
  batch<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  /** Stages a block (duplicates are harmless: lookups take the first). */
  putBlock(cid: string, bytes: Uint8Array): void {
    this.#s.putBlock.run(cid, bytes);
  }

  /** A staged block by CID string: the block source the verifying walk reads. */
  get(cid: string): Uint8Array | undefined {
    if (this.#getBlock === undefined) throw new Error('staged blocks are not indexed yet');
    return this.#getBlock.get(cid) as Uint8Array | undefined;
  }

  /** Marks a block as part of the verified repo (only reached blocks are imported); repeats are harmless. */
  reach(cid: string): void {
    this.#s.reach.run(cid);
  }

  putRecord(path: string, cid: string): void {
    this.#s.putRecord.run(path, cid);
  }

  putBlobRef(path: string, blobCid: string): void {
    this.#s.putBlobRef.run(path, blobCid);
  }

  /** Distinct blobs the staged records reference. */
  blobCount(): number {
    return this.#db.prepare('SELECT count(DISTINCT cid) FROM blob_ref').pluck().get() as number;
  }

  /**
   * Every reached block once, in CID order (the order the repo's own table is keyed by, so the
   * final copy appends instead of splitting pages), read by a single pass over the staging file.
   */
  *reachedBlocks(): Generator<[string, Uint8Array], void, undefined> {
    const rows = this.#db
      .prepare('SELECT r.cid, (SELECT bytes FROM block b WHERE b.cid = r.cid LIMIT 1) FROM (SELECT DISTINCT cid FROM reached ORDER BY cid) r')
      .raw()
      .iterate() as IterableIterator<[string, Uint8Array]>;
    yield* rows;
  }

  /** Every record (`collection/rkey`, CID) in path order. */
  *records(pageSize = 1000): Generator<[string, string], void, undefined> {
    let after = '';
    for (;;) {
      const rows = this.#s.recordPage.all(after, pageSize) as Array<[string, string]>;
      yield* rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1][0];
    }
  }

  /** Every blob reference (record path, blob CID). */
  *blobRefs(pageSize = 1000): Generator<[string, string], void, undefined> {
    let after: [string, string] = ['', ''];
    for (;;) {
      const rows = this.#s.blobRefPage.all(after[0], after[1], pageSize) as Array<[string, string]>;
      yield* rows;
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1];
    }
  }

  /** Closes and deletes the file. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
    rmSync(this.file, { force: true });
  }
}

/** Deletes staging files an interrupted process left behind (call at boot, before any import). */
export function removeStaleStagingFiles(dir: string): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    rmSync(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
