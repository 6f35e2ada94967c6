import type { Database } from '../db/index.ts';
import { AccountError } from './errors.ts';

/** Preferences only full sessions (account password, no app password) may read or write: they hold personal details. */
const PRIVILEGED_PREFS = new Set(['app.bsky.actor.defs#personalDetailsPref']);
const NAMESPACE = 'app.bsky';
const PERSONAL_DETAILS = 'app.bsky.actor.defs#personalDetailsPref';
/**
 * Computed on every read from the birth date in the personal details, never stored: a client
 * may send it back (a migration puts what the old PDS's getPreferences gave), and it is dropped.
 */
const DECLARED_AGE = 'app.bsky.actor.defs#declaredAgePref';

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
    const prefs = rows.map((row) => JSON.parse(row.value_json) as Record<string, unknown>);
    const birthDate = prefs.find((p) => p.$type === PERSONAL_DETAILS)?.birthDate;
    if (typeof birthDate === 'string') {
      const age = ageOn(birthDate, new Date());
      if (age !== undefined) prefs.push({ $type: DECLARED_AGE, isOverAge13: age >= 13, isOverAge16: age >= 16, isOverAge18: age >= 18 });
    }
    return prefs.filter((pref) => opts.full || !PRIVILEGED_PREFS.has(pref.$type as string));
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
    const stored = (prefs as Array<Record<string, unknown>>).filter((pref) => pref.$type !== DECLARED_AGE);
    this.db.transaction(() => {
      const keep = opts.full ? [] : [...PRIVILEGED_PREFS];
      const existing = this.db.prepare('SELECT name FROM account_pref WHERE did = ? AND name LIKE ?').all(did, `${NAMESPACE}.%`) as Array<{ name: string }>;
      for (const { name } of existing) if (!keep.includes(name)) this.db.prepare('DELETE FROM account_pref WHERE did = ? AND name = ?').run(did, name);
      for (const pref of stored) {
        this.db.prepare('INSERT INTO account_pref (did, name, value_json) VALUES (?, ?, ?) ON CONFLICT (did, name) DO UPDATE SET value_json = excluded.value_json').run(did, pref.$type as string, JSON.stringify(pref));
      }
    });
  }
}

/** Whole years from `birthDate` to `today`; undefined for a date that does not parse. */
function ageOn(birthDate: string, today: Date): number | undefined {
  const born = new Date(birthDate);
  if (Number.isNaN(born.getTime())) return undefined;
  let age = today.getUTCFullYear() - born.getUTCFullYear();
  const months = today.getUTCMonth() - born.getUTCMonth();
  if (months < 0 || (months === 0 && today.getUTCDate() < born.getUTCDate())) age--;
  return age;
}
