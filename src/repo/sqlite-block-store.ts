import type BetterSqlite3 from 'better-sqlite3';
import { parseCid, type Cid } from '../ipld/cid.ts';
import type { BlockStore } from './block-store.ts';

type Db = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

interface Statements {
  get: Statement;
  has: Statement;
  page: Statement;
  pageSince: Statement;
  /** The same four over the record index, where the records' blocks are (migration 14). */
  recordGet: Statement;
  recordHas: Statement;
  recordPage: Statement;
  recordPageSince: Statement;
  /** CIDs that several records of a repo hold (identical records). */
  recordShared: Statement;
  /** Multi-row INSERT and DELETE by row count (1..ROWS_PER_STATEMENT), prepared on first use. */
  putRows: Statement[];
  delRows: Statement[];
}

/** Rows per multi-row statement: one commit writes and drops a handful of blocks, an import thousands. */
const ROWS_PER_STATEMENT = 32;

/** A commit or MST node by CID. */
const NODE_BLOCK = 'SELECT bytes FROM repo_block WHERE did = ? AND cid = ?';
/** A record's block by CID (migration 14), along record_cid: rows of one CID (identical records) hold the same block, one of them. */
const RECORD_BLOCK = 'SELECT bytes FROM record WHERE did = ? AND cid = ? AND bytes IS NOT NULL LIMIT 1';

// Prepared once per connection, not per store: a store is made for each repo and each job.
const statements = new WeakMap<Db, Statements>();

function statementsFor(db: Db): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      get: db.prepare(NODE_BLOCK).pluck(),
      has: db.prepare('SELECT 1 FROM repo_block WHERE did = ? AND cid = ?').pluck(),
      page: db.prepare('SELECT cid, bytes FROM repo_block WHERE did = ? AND cid > ? ORDER BY cid LIMIT ?').raw(),
      // no index on rev (migration 13): the repo's blocks in key order, those of a later rev kept
      pageSince: db.prepare('SELECT cid, bytes FROM repo_block WHERE did = ? AND cid > ? AND rev > ? ORDER BY cid LIMIT ?').raw(),
      recordGet: db.prepare(RECORD_BLOCK).pluck(),
      recordHas: db.prepare('SELECT 1 FROM record WHERE did = ? AND cid = ? AND bytes IS NOT NULL LIMIT 1').pluck(),
      // In key order, the rows themselves (an export reads them in sequence, not by CID one search each).
      recordPage: db.prepare('SELECT collection, rkey, cid, bytes FROM record WHERE did = ? AND (collection, rkey) > (?, ?) AND bytes IS NOT NULL ORDER BY collection, rkey LIMIT ?').raw(),
      // a block is in the export since `rev` if any path holding it was written after
      recordPageSince: db.prepare('SELECT collection, rkey, cid, bytes FROM record WHERE did = ? AND (collection, rkey) > (?, ?) AND rev > ? AND bytes IS NOT NULL ORDER BY collection, rkey LIMIT ?').raw(),
      // from the CID index alone, without reading a row
      recordShared: db.prepare('SELECT cid FROM record INDEXED BY record_cid WHERE did = ? GROUP BY cid HAVING count(*) > 1').pluck(),
      putRows: [],
      delRows: [],
    };
    statements.set(db, s);
  }
  return s;
}

export interface StoredBlock {
  cid: Cid;
  bytes: Uint8Array;
}

/**
 * The blocks of one repo in the PDS database. Commits and MST nodes are rows of `repo_block`,
 * which `putMany` and `deleteMany` write; records' blocks are in their rows of the record index
 * (`record.bytes`, written with the record by `RecordIndex`, see migration 14). Reads by CID look
 * in `repo_block` first (where the tree's reads find every node), then in the record index.
 * Every call is one or two prepared statements and nothing here opens a transaction: the caller
 * wraps a whole commit in one, so a commit's blocks, its orphan deletions, its records and the
 * repo root change together or not at all.
 */
export class SqliteBlockStore implements BlockStore {
  readonly #s: Statements;

  constructor(
    readonly db: Db,
    readonly did: string,
  ) {
    this.#s = statementsFor(db);
  }

  get(cid: string): Uint8Array | undefined {
    return (this.#s.get.get(this.did, cid) ?? this.#s.recordGet.get(this.did, cid)) as Uint8Array | undefined;
  }

  has(cid: string): boolean {
    return this.#s.has.get(this.did, cid) !== undefined || this.#s.recordHas.get(this.did, cid) !== undefined;
  }

  getMany(cids: Iterable<string>): { blocks: Map<string, Uint8Array>; missing: string[] } {
    const blocks = new Map<string, Uint8Array>();
    const missing: string[] = [];
    for (const cid of cids) {
      const bytes = this.get(cid);
      if (bytes === undefined) missing.push(cid);
      else blocks.set(cid, bytes);
    }
    return { blocks, missing };
  }

  /**
   * Stores blocks in `repo_block` (a block already there only takes the new rev), many rows per
   * statement. Records' blocks go with their rows of the record index instead.
   */
  putMany(blocks: Iterable<[string, Uint8Array]>, rev: string): void {
    const params: unknown[] = [];
    let rows = 0;
    for (const [cid, bytes] of blocks) {
      params.push(this.did, cid, rev, bytes);
      if (++rows === ROWS_PER_STATEMENT) {
        this.#putRows(rows).run(params);
        params.length = 0;
        rows = 0;
      }
    }
    if (rows > 0) this.#putRows(rows).run(params);
  }

  /**
   * Stores every block `select` yields as rows (cid, bytes), in one statement: an import's blocks,
   * read from its staging file attached to this connection. Returns how many.
   */
  putAllFrom(select: string, rev: string): number {
    // not prepared once: the query names a per-import attachment
    return this.db
      .prepare(`INSERT INTO repo_block (did, cid, rev, bytes) SELECT ?, cid, ?, bytes FROM (${select}) WHERE true
         ON CONFLICT (did, cid) DO UPDATE SET rev = excluded.rev`)
      .run(this.did, rev).changes;
  }

  /** Deletes blocks by CID, many per statement. */
  deleteMany(cids: Iterable<string>): void {
    const params: unknown[] = [this.did];
    for (const cid of cids) {
      params.push(cid);
      if (params.length === ROWS_PER_STATEMENT + 1) {
        this.#delRows(ROWS_PER_STATEMENT).run(params);
        params.length = 1;
      }
    }
    if (params.length > 1) this.#delRows(params.length - 1).run(params);
  }

  #putRows(n: number): Statement {
    return (this.#s.putRows[n] ??= this.db.prepare(
      `INSERT INTO repo_block (did, cid, rev, bytes) VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?)').join(', ')}
       ON CONFLICT (did, cid) DO UPDATE SET rev = excluded.rev`,
    ));
  }

  #delRows(n: number): Statement {
    return (this.#s.delRows[n] ??= this.db.prepare(`DELETE FROM repo_block WHERE did = ? AND cid IN (${Array.from({ length: n }, () => '?').join(', ')})`));
  }

  /** See `streamRepoBlocks`. */
  streamBlocks(sinceRev?: string, pageSize?: number): Generator<StoredBlock, void, undefined> {
    return streamRepoBlocks(this.db, this.did, sinceRev, pageSize);
  }
}

/**
 * Every block of a repo (or those written after `sinceRev`), in pages by key: the commits and
 * MST nodes, then the records' blocks, each CID once. Each page is a finished query, so no cursor
 * stays open while a consumer awaits the network between blocks (better-sqlite3 refuses other
 * statements on a connection with an open iterator), and memory holds one page whatever the
 * repo's size. Blocks deleted or added between pages may be missed or seen: read inside a
 * transaction for a consistent snapshot.
 */
export function* streamRepoBlocks(db: Db, did: string, sinceRev?: string, pageSize = 512): Generator<StoredBlock, void, undefined> {
  const s = statementsFor(db);
  let after = '';
  for (;;) {
    const rows = (sinceRev === undefined ? s.page.all(did, after, pageSize) : s.pageSince.all(did, after, sinceRev, pageSize)) as Array<[string, Uint8Array]>;
    for (const [cid, bytes] of rows) yield { cid: parseCid(cid), bytes };
    if (rows.length < pageSize) break;
    after = rows[rows.length - 1][0];
  }
  // Records in key order. A CID several records hold is sent once: those CIDs are looked up first
  // (usually none; memory holds them, not the repo's), and each remembered once sent.
  const shared = new Set(s.recordShared.all(did) as string[]);
  const sent = new Set<string>();
  let key: [string, string] = ['', ''];
  for (;;) {
    const rows = (sinceRev === undefined ? s.recordPage.all(did, key[0], key[1], pageSize) : s.recordPageSince.all(did, key[0], key[1], sinceRev, pageSize)) as Array<
      [string, string, string, Uint8Array]
    >;
    for (const [, , cid, bytes] of rows) {
      if (shared.has(cid)) {
        if (sent.has(cid)) continue;
        sent.add(cid);
      }
      yield { cid: parseCid(cid), bytes };
    }
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1];
    key = [last[0], last[1]];
  }
}

/**
 * A reader of any repo's blocks by (DID, CID) for the offline checks (doctor, integrity), which
 * may open a database of any schema version: with records' blocks in the record index
 * (migration 14) it looks there for what `repo_block` lacks; before it, only in `repo_block`.
 */
export function repoBlockReader(db: Db): (did: string, cid: string) => Uint8Array | undefined {
  const nodes = db.prepare(NODE_BLOCK).pluck();
  if (!hasRecordBytes(db)) return (did, cid) => nodes.get(did, cid) as Uint8Array | undefined;
  const records = db.prepare(RECORD_BLOCK).pluck();
  return (did, cid) => (nodes.get(did, cid) ?? records.get(did, cid)) as Uint8Array | undefined;
}

/** Whether the record index holds the records' blocks (migration 14 has run). */
export function hasRecordBytes(db: Db): boolean {
  return (db.pragma('table_info(record)') as Array<{ name: string }>).some((c) => c.name === 'bytes');
}
