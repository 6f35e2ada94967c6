import type { Database } from '../db/index.ts';

export interface RecordRow {
  collection: string;
  rkey: string;
  cid: string;
  rev: string;
}

/**
 * The reads below compare columns with `+?`, not `?`. When they were joins with `repo_block`,
 * SQLite (3.54, as better-sqlite3 bundles it) marked each statement to be compiled again
 * whenever a value compared with a column was bound anew, so that the planner might look at the
 * value: every call re-parsed and re-planned the SQL (~12% of getRecord's server CPU). A unary
 * `+` on the value keeps the plan fixed (the value has no affinity either way) and the same
 * primary-key searches (see record-index.test.ts); the reads keep it now that they read one table.
 */

/**
 * The record index of every repo: (collection, rkey) → current CID and the record's block (its
 * DAG-CBOR; migration 14). Kept in step with the MST by the write path, in the same transaction,
 * and used for reads, listings and swap checks. A row whose block is missing (NULL: only a
 * database damaged before migration 14) reads as no record.
 */
export class RecordIndex {
  constructor(private readonly db: Database) {}

  get(did: string, collection: string, rkey: string): RecordRow | undefined {
    return this.db
      .prepare('SELECT collection, rkey, cid, rev FROM record WHERE did = ? AND collection = ? AND rkey = ?')
      .get(did, collection, rkey) as RecordRow | undefined;
  }

  /** A record with its block, in one search. */
  getWithBytes(did: string, collection: string, rkey: string): (RecordRow & { bytes: Uint8Array }) | undefined {
    return this.db
      .prepare('SELECT collection, rkey, cid, rev, bytes FROM record WHERE did = +? AND collection = +? AND rkey = +? AND bytes IS NOT NULL')
      .get(did, collection, rkey) as (RecordRow & { bytes: Uint8Array }) | undefined;
  }

  /**
   * One page of a collection by record key, newest first unless `reverse` (TID keys sort by
   * time). The cursor is the last record key of the previous page.
   *
   * The page comes back as one row: the keys, CIDs and block lengths as one text, the blocks
   * concatenated in one blob (each row's blob would be a Buffer of its own, half of the query's
   * cost at 50 records). Both aggregates read the rows in the same pass, so their orders agree;
   * the key order is checked here, not assumed of the aggregate. The rows are one range of the
   * record index, blocks included: one B-tree search a page.
   */
  list(did: string, collection: string, opts: { limit: number; cursor?: string; reverse?: boolean }): Array<{ rkey: string; cid: string; bytes: Uint8Array }> {
    const reverse = opts.reverse ?? false;
    const page = reverse
      ? 'SELECT rkey, cid, bytes FROM record WHERE did = +? AND collection = +? AND rkey > +? AND bytes IS NOT NULL ORDER BY rkey ASC LIMIT +?'
      : 'SELECT rkey, cid, bytes FROM record WHERE did = +? AND collection = +? AND rkey < +? AND bytes IS NOT NULL ORDER BY rkey DESC LIMIT +?';
    const start = opts.cursor ?? (reverse ? '' : '\uffff');
    const row = this.db
      .prepare(`SELECT group_concat(rkey || ' ' || cid || ' ' || length(bytes), ' ') AS meta, CAST(group_concat(bytes, '') AS BLOB) AS blocks FROM (${page})`)
      .get(did, collection, start, opts.limit) as { meta: string | null; blocks: Buffer | null };
    if (row.meta === null || row.blocks === null) return [];
    const parts = row.meta.split(' ');
    const rows: Array<{ rkey: string; cid: string; bytes: Uint8Array }> = [];
    let offset = 0;
    for (let i = 0; i + 2 < parts.length; i += 3) {
      const length = Number(parts[i + 2]);
      rows.push({ rkey: parts[i], cid: parts[i + 1], bytes: row.blocks.subarray(offset, offset + length) });
      offset += length;
    }
    // A key or CID with a space in it (neither syntax allows one) would misalign the parts.
    if (parts.length % 3 !== 0 || offset !== row.blocks.length) throw new Error(`record page of ${did} ${collection}: listing does not add up`);
    if (!isSorted(rows, reverse)) rows.sort((a, b) => (a.rkey < b.rkey ? -1 : 1) * (reverse ? 1 : -1));
    return rows;
  }

  /**
   * The oldest `limit` records written after `rev` in the given collections, with their blocks
   * (read-after-write: what an AppView that has indexed the repo up to `rev` has not seen yet).
   */
  since(did: string, rev: string, collections: readonly string[], limit: number): Array<RecordRow & { indexedAt: string; bytes: Uint8Array }> {
    const marks = collections.map(() => '+?').join(', ');
    return this.db
      .prepare(
        `SELECT collection, rkey, cid, rev, indexed_at AS indexedAt, bytes FROM record
         WHERE did = +? AND rev > +? AND collection IN (${marks}) AND bytes IS NOT NULL ORDER BY rev ASC LIMIT +?`,
      )
      .all(did, rev, ...collections, limit) as Array<RecordRow & { indexedAt: string; bytes: Uint8Array }>;
  }

  /** Whether any record of the repo was written at or before `rev`. */
  hasAtOrBefore(did: string, rev: string): boolean {
    return this.db.prepare('SELECT 1 FROM record WHERE did = ? AND rev <= ? LIMIT 1').get(did, rev) !== undefined;
  }

  collections(did: string): string[] {
    const rows = this.db.prepare('SELECT DISTINCT collection FROM record WHERE did = ? ORDER BY collection').all(did) as Array<{ collection: string }>;
    return rows.map((r) => r.collection);
  }

  count(did: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM record WHERE did = ?').get(did) as { n: number }).n;
  }

  /** How many distinct record blocks the repo holds (identical records share one). */
  blockCount(did: string): number {
    return (this.db.prepare('SELECT count(DISTINCT cid) AS n FROM record WHERE did = ? AND bytes IS NOT NULL').get(did) as { n: number }).n;
  }

  /** Whether any record of the repo (other than the excluded paths) still points at `cid`. */
  isCidReferenced(did: string, cid: string): boolean {
    return this.db.prepare('SELECT 1 FROM record WHERE did = ? AND cid = ? LIMIT 1').get(did, cid) !== undefined;
  }

  /** Stores a record and its block (`bytes`, the DAG-CBOR whose CID is `cid`). */
  put(did: string, collection: string, rkey: string, cid: string, bytes: Uint8Array, rev: string, at: string): void {
    this.db
      .prepare(
        `INSERT INTO record (did, collection, rkey, cid, rev, indexed_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (did, collection, rkey) DO UPDATE SET cid = excluded.cid, rev = excluded.rev, indexed_at = excluded.indexed_at, bytes = excluded.bytes`,
      )
      .run(did, collection, rkey, cid, rev, at, bytes);
  }

  /**
   * Indexes every record `select` yields as rows (collection, rkey, cid, bytes), in one
   * statement: an import's records, read from its staging file attached to this connection.
   * Returns how many.
   */
  putAllFrom(did: string, select: string, rev: string, at: string): number {
    // not the cached prepare: the query names a per-import attachment
    return this.db.handle
      .prepare(`INSERT INTO record (did, collection, rkey, cid, rev, indexed_at, bytes) SELECT ?, collection, rkey, cid, ?, ?, bytes FROM (${select}) WHERE true
         ON CONFLICT (did, collection, rkey) DO UPDATE SET cid = excluded.cid, rev = excluded.rev, indexed_at = excluded.indexed_at, bytes = excluded.bytes`)
      .run(did, rev, at).changes;
  }

  delete(did: string, collection: string, rkey: string): void {
    this.db.prepare('DELETE FROM record WHERE did = ? AND collection = ? AND rkey = ?').run(did, collection, rkey);
  }

  deleteAll(did: string): void {
    this.db.prepare('DELETE FROM record WHERE did = ?').run(did);
  }
}

function isSorted(rows: Array<{ rkey: string }>, ascending: boolean): boolean {
  for (let i = 1; i < rows.length; i++) {
    if (ascending ? rows[i - 1].rkey >= rows[i].rkey : rows[i - 1].rkey <= rows[i].rkey) return false;
  }
  return true;
}
