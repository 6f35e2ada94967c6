import type { Migration } from '../migrate.ts';

/** Server-wide facts that outlive a process (e.g. when the data directory was created). */
const migration: Migration = {
  id: 1,
  name: 'core',
  up(db) {
    db.exec(`
      CREATE TABLE server_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
    db.prepare('INSERT INTO server_meta (key, value) VALUES (?, ?)').run('created_at', new Date().toISOString());
  },
};

export default migration;
