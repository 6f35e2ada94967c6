import type { Migration } from '../migrate.ts';

/**
 * The blocks of every hosted repository: commits, MST nodes and records, by (did, cid). No rowid:
 * rows are found by CID, so the primary key is the table. `rev` is the commit that last wrote the
 * block; the (did, rev) index serves `getRepo` "since" a revision.
 */
const migration: Migration = {
  id: 2,
  name: 'repo-blocks',
  up(db) {
    db.exec(`
      CREATE TABLE repo_block (
        did TEXT NOT NULL,
        cid TEXT NOT NULL,
        rev TEXT NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (did, cid)
      ) WITHOUT ROWID;
      CREATE INDEX repo_block_rev ON repo_block(did, rev);
    `);
  },
};

export default migration;
