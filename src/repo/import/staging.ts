import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createPrivateFile } from '../../data-directory.ts';
import { join } from 'node:path';

type Statement = BetterSqlite3.Statement;

/** Staging files are named so; anything left with this name after a crash is garbage. */
const STAGING_PREFIX = 'repo-import-';
/**
 * The staging connection's page cache. Small on purpose: blocks are appended, the index is built
 * by a sort that spills to disk, and the walk's lookups hit the operating system's file cache;
 * a larger cache (it was 32 MB) only grew the process with the repo's size, up to the cache's.
 */
const STAGING_CACHE_KB = 4096;
/** Rows per multi-row INSERT: binding one statement per row costs more than the row itself. */
const ROWS_PER_STATEMENT = 64;

function rowMarks(columns: number): string {
  const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: ROWS_PER_STATEMENT }, () => row).join(', ');
}

/**
 * Scratch space of one repo import: a SQLite file of its own in the temporary directory, written
 * without journal or fsync (if the process dies, the file is garbage and is deleted at the next
 * boot). Blocks arrive in any order, so they are parked here by CID, the tree is verified by
 * walking it from the root out of this file, and what the walk read (the blocks, the record
 * index, the blob references) is listed here, ready to be copied into the account's repo in one
 * transaction by the database itself (`copyQueries`: the file is attached to the main
 * connection, so no row passes through JavaScript). Memory stays bounded whatever the repo's
 * size: the page cache is small, and nothing of the repo is kept in memory.
 */
export class ImportStaging {
  readonly file: string;
  readonly #db: BetterSqlite3.Database;
  readonly #s: {
    putBlock: Statement;
    putBlocks: Statement;
    putRecord: Statement;
    putRecords: Statement;
    putReached: Statement;
    putReached1: Statement;
    putBlobRef: Statement;
    blobRefPage: Statement;
  };
  #getBlock: Statement | undefined;
  /** Rows staged in `block` (their rowids are 1..#staged: the table is only appended to). */
  #staged = 0;
  /** One bit per staged row, set when the walk reads it; 1/8 byte per block, whatever the block's size. */
  #reached: Uint8Array | undefined;
  #reachedCount = 0;
  #reachedWritten: 'all' | 'listed' | undefined;
  #closed = false;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, `${STAGING_PREFIX}${randomBytes(8).toString('hex')}.sqlite`);
    createPrivateFile(this.file);
    const db = new BetterSqlite3(this.file);
    this.#db = db;
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    // Not EXCLUSIVE: the main connection attaches this file to copy from it.
    db.pragma(`cache_size = -${STAGING_CACHE_KB}`);
    // Rows are appended in arrival order; the CID index is built once all blocks are in (a sort is
    // several times faster than keeping a b-tree of random keys up to date row by row). `reached`
    // holds the rowids of the blocks the verifying walk read (the repo, each block once) when the
    // CAR held more than that (see listReached).
    db.exec(`
      CREATE TABLE block (cid TEXT NOT NULL, bytes BLOB NOT NULL);
      CREATE TABLE reached (id INTEGER PRIMARY KEY);
      CREATE TABLE record (collection TEXT NOT NULL, rkey TEXT NOT NULL, cid TEXT NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (collection, rkey)) WITHOUT ROWID;
      CREATE TABLE blob_ref (path TEXT NOT NULL, cid TEXT NOT NULL, PRIMARY KEY (path, cid)) WITHOUT ROWID;
    `);
    this.#s = {
      putBlock: db.prepare('INSERT INTO block (cid, bytes) VALUES (?, ?)'),
      putBlocks: db.prepare(`INSERT INTO block (cid, bytes) VALUES ${rowMarks(2)}`),
      putRecord: db.prepare('INSERT INTO record (collection, rkey, cid, bytes) VALUES (?, ?, ?, ?)'),
      putRecords: db.prepare(`INSERT INTO record (collection, rkey, cid, bytes) VALUES ${rowMarks(4)}`),
      putReached: db.prepare(`INSERT INTO reached (id) VALUES ${rowMarks(1)}`),
      putReached1: db.prepare('INSERT INTO reached (id) VALUES (?)'),
      putBlobRef: db.prepare('INSERT OR IGNORE INTO blob_ref (path, cid) VALUES (?, ?)'),
      blobRefPage: db.prepare('SELECT path, cid FROM blob_ref WHERE (path, cid) > (?, ?) ORDER BY path, cid LIMIT ?').raw(),
    };
  }

  /** Builds the CID index once every block is staged; `get` works only after this. */
  indexBlocks(): void {
    this.#db.exec('CREATE INDEX block_cid ON block (cid)');
    this.#getBlock = this.#db.prepare('SELECT rowid, bytes FROM block WHERE cid = ? LIMIT 1').raw();
    this.#reached = new Uint8Array((this.#staged >> 3) + 1);
  }

  /** Runs `fn` in one transaction of the staging file (batches are much faster than single inserts). */
  batch<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  /** Stages blocks (duplicates are harmless: lookups take the first), many rows per statement. */
  putBlocks(blocks: ReadonlyArray<readonly [cid: string, bytes: Uint8Array]>): void {
    const params: unknown[] = [];
    let i = 0;
    for (; i + ROWS_PER_STATEMENT <= blocks.length; i += ROWS_PER_STATEMENT) {
      params.length = 0;
      for (let j = i; j < i + ROWS_PER_STATEMENT; j++) params.push(blocks[j][0], blocks[j][1]);
      this.#s.putBlocks.run(params);
    }
    for (; i < blocks.length; i++) this.#s.putBlock.run(blocks[i][0], blocks[i][1]);
    this.#staged += blocks.length;
  }

  /**
   * A staged block by CID string: the block source the verifying walk reads. Every block read is
   * marked as part of the repo's tree (the walk reads the commit and the MST nodes this way,
   * nothing else); only those go to the block table, each once, whatever else or however often
   * the CAR held. Records' blocks are read with `getRecord` and go with their records.
   */
  get(cid: string): Uint8Array | undefined {
    const reached = this.#reached;
    if (this.#getBlock === undefined || reached === undefined) throw new Error('staged blocks are not indexed yet');
    const row = this.#getBlock.get(cid) as [number, Uint8Array] | undefined;
    if (row === undefined) return undefined;
    const [id, bytes] = row;
    const bit = 1 << (id & 7);
    if ((reached[id >> 3] & bit) === 0) {
      reached[id >> 3] |= bit;
      this.#reachedCount++;
    }
    return bytes;
  }

  /**
   * Once the walk is over: writes down which staged rows are the repo's tree (commit and nodes)
   * for the copy. When the CAR held exactly that (a repo without records: every block read, none
   * twice) there is nothing to write; otherwise their rowids go to \`reached\`, in order.
   */
  listReached(): void {
    const reached = this.#reached;
    if (reached === undefined) throw new Error('staged blocks are not indexed yet');
    if (this.#reachedCount === this.#staged) {
      this.#reachedWritten = 'all';
      return;
    }
    const ids: number[] = [];
    const flush = () => {
      if (ids.length === ROWS_PER_STATEMENT) this.#s.putReached.run(ids);
      else for (const id of ids) this.#s.putReached1.run(id);
      ids.length = 0;
    };
    this.batch(() => {
      for (let id = 1; id <= this.#staged; id++) {
        if ((reached[id >> 3] & (1 << (id & 7))) === 0) continue;
        ids.push(id);
        if (ids.length === ROWS_PER_STATEMENT) flush();
      }
      flush();
    });
    this.#reachedWritten = 'listed';
  }

  /** A record's staged block by CID string, for the verifying walk: not marked (see `get`). */
  getRecord(cid: string): Uint8Array | undefined {
    if (this.#getBlock === undefined) throw new Error('staged blocks are not indexed yet');
    return (this.#getBlock.get(cid) as [number, Uint8Array] | undefined)?.[1];
  }

  /** Records of the repo with their blocks, by path (`collection/rkey`), many rows per statement. */
  putRecords(records: ReadonlyArray<readonly [path: string, cid: string, bytes: Uint8Array]>): void {
    const params: unknown[] = [];
    const put = ([path, cid, bytes]: readonly [string, string, Uint8Array]) => {
      const slash = path.indexOf('/');
      params.push(path.slice(0, slash), path.slice(slash + 1), cid, bytes);
    };
    let i = 0;
    for (; i + ROWS_PER_STATEMENT <= records.length; i += ROWS_PER_STATEMENT) {
      params.length = 0;
      for (let j = i; j < i + ROWS_PER_STATEMENT; j++) put(records[j]);
      this.#s.putRecords.run(params);
    }
    for (; i < records.length; i++) {
      params.length = 0;
      put(records[i]);
      this.#s.putRecord.run(params);
    }
  }

  putBlobRef(path: string, blobCid: string): void {
    this.#s.putBlobRef.run(path, blobCid);
  }

  /** Distinct blobs the staged records reference. */
  blobCount(): number {
    return this.#db.prepare('SELECT count(DISTINCT cid) FROM blob_ref').pluck().get() as number;
  }

  /**
   * Queries over this file attached as `alias` to another connection: every block of the repo
   * but the records' once (the commit and the MST nodes), in CID order (read along the CID index,
   * so no sort; the order the repo's own table is keyed by, so the copy appends instead of
   * splitting pages), and every record (collection, rkey, CID, its block) in key order.
   */
  copyQueries(alias: string): { blocks: string; records: string } {
    if (this.#reachedWritten === undefined) throw new Error('listReached() first');
    const onlyReached = this.#reachedWritten === 'all' ? '' : `WHERE EXISTS (SELECT 1 FROM ${alias}.reached r WHERE r.id = b.rowid)`;
    return {
      blocks: `SELECT b.cid, b.bytes FROM ${alias}.block b INDEXED BY block_cid ${onlyReached} ORDER BY b.cid`,
      records: `SELECT collection, rkey, cid, bytes FROM ${alias}.record ORDER BY collection, rkey`,
    };
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
