import type { Database, SqliteHandle } from './database.ts';

export interface Migration {
  id: number;
  name: string;
  up(db: SqliteHandle): void;
}

export interface MigrationResult {
  applied: Array<{ id: number; name: string }>;
  current: number;
  error?: { id: number; name: string; message: string };
}

/**
 * Applies the migrations the database has not seen, each in its own transaction, in id order.
 * Returns what it did instead of throwing, so the caller decides how to report a failure.
 * `onStart` hears of each one before it runs (some rewrite a table: seconds to minutes on a large
 * database), and whether the database was new (no migration applied before).
 */
export function migrate(
  db: Database,
  migrations: readonly Migration[],
  onStart?: (migration: { id: number; name: string }, database: { fresh: boolean }) => void,
): MigrationResult {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migration (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const done = new Set((db.prepare('SELECT id FROM schema_migration').all() as Array<{ id: number }>).map((r) => r.id));
  const sorted = [...migrations].sort((a, b) => a.id - b.id);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].id === sorted[i - 1].id) throw new Error(`two migrations share id ${sorted[i].id}`);
  }
  const applied: MigrationResult['applied'] = [];
  for (const migration of sorted) {
    if (done.has(migration.id)) continue;
    onStart?.({ id: migration.id, name: migration.name }, { fresh: done.size === 0 });
    try {
      db.transaction(() => {
        migration.up(db.handle);
        db.prepare('INSERT INTO schema_migration (id, name, applied_at) VALUES (?, ?, ?)').run(
          migration.id,
          migration.name,
          new Date().toISOString(),
        );
      });
    } catch (err) {
      return {
        applied,
        current: applied.at(-1)?.id ?? Math.max(0, ...done),
        error: { id: migration.id, name: migration.name, message: (err as Error).message },
      };
    }
    applied.push({ id: migration.id, name: migration.name });
  }
  return { applied, current: Math.max(0, ...done, ...applied.map((a) => a.id)) };
}
