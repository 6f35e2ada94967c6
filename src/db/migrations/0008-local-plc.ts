import type { Migration } from '../migrate.ts';

/**
 * The built-in PLC directory of a local playground (src/identity/local-plc/): every operation it
 * accepted, per DID in arrival order (`seq`), as the JSON it was submitted in. `nullified` marks
 * operations a recovery operation forked away; they stay for the audit log.
 */
const migration: Migration = {
  id: 8,
  name: 'local-plc',
  up(db) {
    db.exec(`
      CREATE TABLE plc_operation (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        did TEXT NOT NULL,
        cid TEXT NOT NULL,
        operation TEXT NOT NULL,
        nullified INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      );
      CREATE INDEX plc_operation_did ON plc_operation(did, seq);
      CREATE UNIQUE INDEX plc_operation_did_cid ON plc_operation(did, cid);
    `);
  },
};

export default migration;
