import type { Database } from '../db/index.ts';

export interface BlobRow {
  cid: string;
  mimeType: string;
  size: number;
  temp: boolean;
  createdAt: string;
  unreferencedAt: string | null;
  takedownRef: string | null;
}

interface Row {
  cid: string;
  mime_type: string;
  size: number;
  temp: number;
  created_at: string;
  unreferenced_at: string | null;
  takedown_ref: string | null;
}

const toRow = (r: Row): BlobRow => ({
  cid: r.cid,
  mimeType: r.mime_type,
  size: r.size,
  temp: r.temp === 1,
  createdAt: r.created_at,
  unreferencedAt: r.unreferenced_at,
  takedownRef: r.takedown_ref,
});

const NO_REFS = 'NOT EXISTS (SELECT 1 FROM record_blob r WHERE r.did = blob.did AND r.blob_cid = blob.cid)';

/** The SQL of the `blob` and `record_blob` tables (migration 0005). Every lookup is an index seek. */
export class BlobMetadata {
  constructor(private readonly db: Database) {}

  get(did: string, cid: string): BlobRow | undefined {
    const row = this.db.prepare('SELECT * FROM blob WHERE did = ? AND cid = ?').get(did, cid) as Row | undefined;
    return row && toRow(row);
  }

  /**
   * Records a finished upload and returns the row as stored. A blob already known keeps its
   * type and size (the first upload's sniffing stands, so refs handed out earlier stay true);
   * a temporary one gets a fresh TTL. An upload that some record already references (an
   * imported repo's missing blob) is permanent at once.
   */
  recordUpload(did: string, cid: string, mimeType: string, size: number, now: string): BlobRow {
    return this.db.transaction(() => {
      const referenced = this.isReferenced(did, cid);
      this.db
        .prepare(
          `INSERT INTO blob (did, cid, mime_type, size, temp, created_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (did, cid) DO UPDATE SET created_at = excluded.created_at, unreferenced_at = NULL WHERE blob.temp = 1`,
        )
        .run(did, cid, mimeType, size, referenced ? 0 : 1, now);
      if (referenced) this.makePermanent(did, cid);
      return this.get(did, cid)!;
    });
  }

  /** The blobs a record references, as recorded by its last write. */
  refsOfRecord(did: string, collection: string, rkey: string): string[] {
    const rows = this.db.prepare('SELECT blob_cid FROM record_blob WHERE did = ? AND collection = ? AND rkey = ?').all(did, collection, rkey) as Array<{ blob_cid: string }>;
    return rows.map((r) => r.blob_cid);
  }

  isReferenced(did: string, cid: string): boolean {
    return this.db.prepare('SELECT 1 FROM record_blob WHERE did = ? AND blob_cid = ? LIMIT 1').get(did, cid) !== undefined;
  }

  addRef(did: string, cid: string, collection: string, rkey: string): void {
    this.db.prepare('INSERT OR IGNORE INTO record_blob (did, blob_cid, collection, rkey) VALUES (?, ?, ?, ?)').run(did, cid, collection, rkey);
  }

  removeRef(did: string, cid: string, collection: string, rkey: string): void {
    this.db.prepare('DELETE FROM record_blob WHERE did = ? AND blob_cid = ? AND collection = ? AND rkey = ?').run(did, cid, collection, rkey);
  }

  makePermanent(did: string, cid: string): void {
    this.db.prepare('UPDATE blob SET temp = 0, unreferenced_at = NULL WHERE did = ? AND cid = ? AND temp = 1').run(did, cid);
  }

  /** A blob lost its last reference: temporary again, due for deletion after the commit (or the TTL). */
  markUnreferenced(did: string, cid: string, now: string): void {
    this.db.prepare('UPDATE blob SET temp = 1, created_at = ?, unreferenced_at = ? WHERE did = ? AND cid = ?').run(now, now, did, cid);
  }

  /**
   * Deletes the row of a blob that lost its last reference, unless something happened since: a
   * record referenced it again, or it was uploaded again (which clears `unreferenced_at`).
   */
  deleteIfUnreferenced(did: string, cid: string): boolean {
    return this.db.prepare(`DELETE FROM blob WHERE did = ? AND cid = ? AND temp = 1 AND unreferenced_at IS NOT NULL AND ${NO_REFS}`).run(did, cid).changes > 0;
  }

  deleteIfExpired(did: string, cid: string, cutoff: string): boolean {
    return this.db.prepare(`DELETE FROM blob WHERE did = ? AND cid = ? AND temp = 1 AND created_at < ? AND ${NO_REFS}`).run(did, cid, cutoff).changes > 0;
  }

  /** Temporary blobs created before `cutoff`, oldest first. */
  expired(cutoff: string, limit: number): Array<{ did: string; cid: string }> {
    return this.db.prepare('SELECT did, cid FROM blob WHERE temp = 1 AND created_at < ? ORDER BY created_at LIMIT ?').all(cutoff, limit) as Array<{ did: string; cid: string }>;
  }

  /**
   * Referenced blobs this PDS holds (and has not taken down), in CID order after `cursor`;
   * with `since`, only those referenced by a record written at a later rev.
   */
  list(did: string, opts: { since?: string; cursor?: string; limit: number }): string[] {
    const cursor = opts.cursor ?? '';
    const rows = (
      opts.since === undefined
        ? this.db
            .prepare(
              `SELECT DISTINCT rb.blob_cid AS cid FROM record_blob rb
               JOIN blob b ON b.did = rb.did AND b.cid = rb.blob_cid AND b.takedown_ref IS NULL
               WHERE rb.did = ? AND rb.blob_cid > ? ORDER BY rb.blob_cid LIMIT ?`,
            )
            .all(did, cursor, opts.limit)
        : this.db
            .prepare(
              `SELECT DISTINCT rb.blob_cid AS cid FROM record_blob rb
               JOIN record r ON r.did = rb.did AND r.collection = rb.collection AND r.rkey = rb.rkey
               JOIN blob b ON b.did = rb.did AND b.cid = rb.blob_cid AND b.takedown_ref IS NULL
               WHERE rb.did = ? AND rb.blob_cid > ? AND r.rev > ? ORDER BY rb.blob_cid LIMIT ?`,
            )
            .all(did, cursor, opts.since, opts.limit)
    ) as Array<{ cid: string }>;
    return rows.map((r) => r.cid);
  }

  /** Blobs records reference that this PDS does not hold, one referencing record each, in CID order. */
  listMissing(did: string, opts: { cursor?: string; limit: number }): Array<{ cid: string; collection: string; rkey: string }> {
    return this.db
      .prepare(
        `SELECT rb.blob_cid AS cid, min(rb.collection || '/' || rb.rkey) AS path FROM record_blob rb
         WHERE rb.did = ? AND rb.blob_cid > ?
           AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.did = rb.did AND b.cid = rb.blob_cid)
         GROUP BY rb.blob_cid ORDER BY rb.blob_cid LIMIT ?`,
      )
      .all(did, opts.cursor ?? '', opts.limit)
      .map((row) => {
        const { cid, path } = row as { cid: string; path: string };
        const slash = path.indexOf('/');
        return { cid, collection: path.slice(0, slash), rkey: path.slice(slash + 1) };
      });
  }

  /** Drops every blob reference of the account (an import replaces them all). */
  deleteRefsOfAccount(did: string): void {
    this.db.prepare('DELETE FROM record_blob WHERE did = ?').run(did);
  }

  /** Makes permanent every temporary blob of the account that some record references. */
  makeReferencedPermanent(did: string): void {
    this.db
      .prepare(`UPDATE blob SET temp = 0, unreferenced_at = NULL WHERE did = ? AND temp = 1 AND NOT ${NO_REFS}`)
      .run(did);
  }

  /** Permanent blobs of the account that no record references. */
  unreferencedPermanent(did: string): string[] {
    return this.db.prepare(`SELECT cid FROM blob WHERE did = ? AND temp = 0 AND ${NO_REFS}`).pluck().all(did) as string[];
  }

  deleteAccount(did: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM record_blob WHERE did = ?').run(did);
      this.db.prepare('DELETE FROM blob WHERE did = ?').run(did);
    });
  }

  /** Sets or clears (null) a blob's takedown; false when the account has no such blob. */
  setTakedown(did: string, cid: string, ref: string | null): boolean {
    return this.db.prepare('UPDATE blob SET takedown_ref = ? WHERE did = ? AND cid = ?').run(ref, did, cid).changes > 0;
  }
}
