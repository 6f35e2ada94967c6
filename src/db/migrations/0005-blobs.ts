import type { Migration } from '../migrate.ts';

/**
 * Blob metadata. Bytes live in the blob store; what is known about them lives here, changed in
 * the same transactions as the records that reference them.
 *
 * - `blob`: one row per (account, CID). `temp` is 1 for an upload no record references yet (it
 *   expires `created_at` + TTL) and again for a blob whose last reference just went away
 *   (`unreferenced_at` set, so the write path can delete it once its commit is durable, and
 *   the TTL collects it if that never happens). `mime_type` is the sniffed type, `size` the
 *   stored size: the values records are checked against.
 * - `record_blob`: which record of the account references which blob. Records are named by
 *   (collection, rkey), the key of the `record` table, so `listBlobs?since=` joins on that
 *   table's primary key to find the rev of the record's last write. Rows may name a blob the
 *   account does not have (an imported repo): that is what `listMissingBlobs` reports.
 */
const migration: Migration = {
  id: 5,
  name: 'blobs',
  up(db) {
    db.exec(`
      CREATE TABLE blob (
        did TEXT NOT NULL,
        cid TEXT NOT NULL,
        mime_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        temp INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        unreferenced_at TEXT,
        takedown_ref TEXT,
        PRIMARY KEY (did, cid)
      ) WITHOUT ROWID;
      CREATE INDEX blob_temp_created_at ON blob(created_at) WHERE temp = 1;

      CREATE TABLE record_blob (
        did TEXT NOT NULL,
        blob_cid TEXT NOT NULL,
        collection TEXT NOT NULL,
        rkey TEXT NOT NULL,
        PRIMARY KEY (did, blob_cid, collection, rkey)
      ) WITHOUT ROWID;
      CREATE INDEX record_blob_record ON record_blob(did, collection, rkey);
    `);
  },
};

export default migration;
