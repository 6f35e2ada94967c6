import type { Migration } from '../migrate.ts';

/**
 * Repository state beside the blocks: each repo's current commit (with its MST root, so a write
 * need not read and decode the commit block to find it), the record index, private
 * preferences, and the sequencer log the firehose is served from. The write path updates all of
 * these and the blocks in one transaction per commit group, so they can never disagree.
 */
const migration: Migration = {
  id: 4,
  name: 'repo',
  up(db) {
    db.exec(`
      CREATE TABLE repo_root (
        did TEXT PRIMARY KEY,
        cid TEXT NOT NULL,
        rev TEXT NOT NULL,
        data TEXT NOT NULL,
        indexed_at TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE record (
        did TEXT NOT NULL,
        collection TEXT NOT NULL,
        rkey TEXT NOT NULL,
        cid TEXT NOT NULL,
        rev TEXT NOT NULL,
        indexed_at TEXT NOT NULL,
        PRIMARY KEY (did, collection, rkey)
      ) WITHOUT ROWID;
      CREATE INDEX record_cid ON record(did, cid);

      CREATE TABLE account_pref (
        did TEXT NOT NULL,
        name TEXT NOT NULL,
        value_json TEXT NOT NULL,
        PRIMARY KEY (did, name)
      ) WITHOUT ROWID;

      CREATE TABLE repo_seq (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        did TEXT NOT NULL,
        event_type TEXT NOT NULL,
        event BLOB NOT NULL,
        sequenced_at TEXT NOT NULL
      );
      CREATE INDEX repo_seq_sequenced_at ON repo_seq(sequenced_at);
    `);
  },
};

export default migration;
