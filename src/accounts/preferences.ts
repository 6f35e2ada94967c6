import type { Database } from '../db/index.ts';
import { AccountError } from './errors.ts';

/** Preferences only full sessions (account password, no app password) may read or write: they hold personal details. */
const PRIVILEGED_PREFS = new Set(['app.bsky.actor.defs#personalDetailsPref']);
const NAMESPACE = 'app.bsky';

/**
 * Private per-account preferences (`app.bsky.actor.getPreferences`/`putPreferences`): never in the
 * repo, never shown to anyone else. Each preference is kept by its `$type`.
 */
export class Preferences {
  constructor(private readonly db: Database) {}

  get(did: string, opts: { full: boolean }): Array<Record<string, unknown>> {
    const rows = this.db
      .prepare("SELECT name, value_json FROM account_pref WHERE did = ? AND name LIKE ? ORDER BY name")
      .all(did, `${NAMESPACE}.%`) as Array<{ name: string; value_json: string }>;
    return rows
      .filter((row) => opts.full || !PRIVILEGED_PREFS.has(row.name))
      .map((row) => JSON.parse(row.value_json) as Record<string, unknown>);
  }

  /** Replaces the account's preferences (those a session may see) with `prefs`. */
  put(did: string, prefs: unknown[], opts: { full: boolean }): void {
    const seen = new Set<string>();
    for (const pref of prefs) {
      const type = (pref as { $type?: unknown })?.$type;
      if (typeof type !== 'string' || !type.startsWith(`${NAMESPACE}.`)) {
        throw new AccountError('InvalidInput', `Preferences must have a $type in the ${NAMESPACE} namespace`);
      }
      if (!opts.full && PRIVILEGED_PREFS.has(type)) throw new AccountError('InvalidInput', `Do not have authorization to set preferences: ${type}`);
      if (seen.has(type)) throw new AccountError('InvalidInput', `Duplicate preference: ${type}`);
      seen.add(type);
    }
    this.db.transaction(() => {
      const keep = opts.full ? [] : [...PRIVILEGED_PREFS];
      const existing = this.db.prepare('SELECT name FROM account_pref WHERE did = ? AND name LIKE ?').all(did, `${NAMESPACE}.%`) as Array<{ name: string }>;
      for (const { name } of existing) if (!keep.includes(name)) this.db.prepare('DELETE FROM account_pref WHERE did = ? AND name = ?').run(did, name);
      for (const pref of prefs as Array<Record<string, unknown>>) {
        this.db.prepare('INSERT INTO account_pref (did, name, value_json) VALUES (?, ?, ?) ON CONFLICT (did, name) DO UPDATE SET value_json = excluded.value_json').run(did, pref.$type as string, JSON.stringify(pref));
      }
    });
  }
}
