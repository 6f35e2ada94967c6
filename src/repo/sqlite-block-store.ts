import type BetterSqlite3 from 'better-sqlite3';
import { parseCid, type Cid } from '../ipld/cid.ts';
import type { BlockStore } from './block-store.ts';

type Db = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

interface Statements {
  get: Statement;
  has: Statement;
  put: Statement;
  del: Statement;
  page: Statement;
  pageSince: Statement;
}

// Prepared once per connection, not per store: a store is made for each repo and each job.
const statements = new WeakMap<Db, Statements>();

function statementsFor(db: Db): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      get: db.prepare('SELECT bytes FROM repo_block WHERE did = ? AND cid = ?').pluck(),
      has: db.prepare('SELECT 1 FROM repo_block WHERE did = ? AND cid = ?').pluck(),
      put: db.prepare(
        `INSERT INTO repo_block (did, cid, rev, bytes) VALUES (?, ?, ?, ?)
         ON CONFLICT (did, cid) DO UPDATE SET rev = excluded.rev`,
      ),
      del: db.prepare('DELETE FROM repo_block WHERE did = ? AND cid = ?'),
      page: db.prepare('SELECT cid, bytes FROM repo_block WHERE did = ? AND cid > ? ORDER BY cid LIMIT ?').raw(),
      pageSince: db
        .prepare(
          `SELECT cid, bytes, rev FROM repo_block
           WHERE did = ? AND rev >= ? AND (rev > ? OR cid > ?)
           ORDER BY rev, cid LIMIT ?`,
        )
        .raw(),
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
 * The blocks of one repo in the PDS database (table `repo_block`). Every call is one prepared
 * statement and nothing here opens a transaction: the caller wraps a whole commit in one, so a
 * commit's blocks, its orphan deletions and the repo root change together or not at all.
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
    return this.#s.get.get(this.did, cid) as Uint8Array | undefined;
  }

  has(cid: string): boolean {
    return this.#s.has.get(this.did, cid) !== undefined;
  }

  getMany(cids: Iterable<string>): { blocks: Map<string, Uint8Array>; missing: string[] } {
    const blocks = new Map<string, Uint8Array>();
    const missing: string[] = [];
    const get = this.#s.get;
    for (const cid of cids) {
      const bytes = get.get(this.did, cid) as Uint8Array | undefined;
      if (bytes === undefined) missing.push(cid);
      else blocks.set(cid, bytes);
    }
    return { blocks, missing };
  }

  putMany(blocks: Iterable<[string, Uint8Array]>, rev: string): void {
    const put = this.#s.put;
    for (const [cid, bytes] of blocks) put.run(this.did, cid, rev, bytes);
  }

  deleteMany(cids: Iterable<string>): void {
    const del = this.#s.del;
    for (const cid of cids) del.run(this.did, cid);
  }

  /** See `streamRepoBlocks`. */
  streamBlocks(sinceRev?: string, pageSize?: number): Generator<StoredBlock, void, undefined> {
    return streamRepoBlocks(this.db, this.did, sinceRev, pageSize);
  }
}

/**
 * Every block of a repo (or those written after `sinceRev`), in pages by key. Each page is a
 * finished query, so no cursor stays open while a consumer awaits the network between blocks
 * (better-sqlite3 refuses other statements on a connection with an open iterator), and memory
 * holds one page whatever the repo's size. Blocks deleted or added between pages may be missed
 * or seen: read inside a transaction for a consistent snapshot.
 */
export function* streamRepoBlocks(db: Db, did: string, sinceRev?: string, pageSize = 512): Generator<StoredBlock, void, undefined> {
  const s = statementsFor(db);
  if (sinceRev === undefined) {
    let after = '';
    for (;;) {
      const rows = s.page.all(did, after, pageSize) as Array<[string, Uint8Array]>;
      for (const [cid, bytes] of rows) yield { cid: parseCid(cid), bytes };
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1][0];
    }
  }
  // keyset pagination on (rev, cid), seeking the index from the last row of the previous page
  let rev = sinceRev;
  let after = '\uffff'; // above every CID: the first page starts strictly after sinceRev
  for (;;) {
    const rows = s.pageSince.all(did, rev, rev, after, pageSize) as Array<[string, Uint8Array, string]>;
    for (const [cid, bytes] of rows) yield { cid: parseCid(cid), bytes };
    if (rows.length < pageSize) return;
    const last = rows[rows.length - 1];
    rev = last[2];
    after = last[0];
  }
}
