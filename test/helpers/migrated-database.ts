// A migrated database in a temporary directory of its own, for the unit tests of storage modules.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, migrate, migrations } from '../../src/db/index.ts';

export interface MigratedDatabase {
  db: Database;
  /** Closes the database and removes its directory. */
  close(): void;
}

/** Opens a new database with every migration applied. */
export function openMigratedDatabase(): MigratedDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'squall-'));
  const db = new Database(join(dir, 'pds.sqlite'));
  assert.equal(migrate(db, migrations).error, undefined);
  return {
    db,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
