import { randomInt } from 'node:crypto';
import { hashPassword, verifyPassword } from '../auth/password.ts';
import type { Database } from '../db/index.ts';
import { AccountError } from './errors.ts';

export interface AppPassword {
  name: string;
  createdAt: string;
  privileged: boolean;
}

/** Most app passwords an account may hold (the official PDS's limit is similar). */
export const MAX_APP_PASSWORDS = 50;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const FORMAT = /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/;

/** App passwords look like `abcd-efgh-ijkl-mnop`: login only tries them for strings of that shape. */
export function isAppPasswordFormat(password: string): boolean {
  return FORMAT.test(password);
}

function generate(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let group = '';
    for (let i = 0; i < 4; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

export class AppPasswords {
  constructor(private readonly db: Database) {}

  async create(did: string, name: string, privileged: boolean): Promise<AppPassword & { password: string }> {
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 100) throw new AccountError('InvalidInput', 'App password name must be 1 to 100 characters');
    const password = generate();
    const passwordHash = await hashPassword(password);
    const createdAt = new Date().toISOString();
    this.db.transaction(() => {
      const count = (this.db.prepare('SELECT count(*) AS n FROM app_password WHERE did = ?').get(did) as { n: number }).n;
      if (count >= MAX_APP_PASSWORDS) throw new AccountError('TooManyAppPasswords', `An account can hold at most ${MAX_APP_PASSWORDS} app passwords`);
      const exists = this.db.prepare('SELECT 1 FROM app_password WHERE did = ? AND name = ?').get(did, trimmed);
      if (exists) throw new AccountError('DuplicateAppPassword', 'An app password with this name already exists');
      this.db
        .prepare('INSERT INTO app_password (did, name, password_hash, privileged, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(did, trimmed, passwordHash, privileged ? 1 : 0, createdAt);
    });
    return { name: trimmed, password, createdAt, privileged };
  }

  list(did: string): AppPassword[] {
    const rows = this.db
      .prepare('SELECT name, created_at, privileged FROM app_password WHERE did = ? ORDER BY created_at DESC')
      .all(did) as Array<{ name: string; created_at: string; privileged: number }>;
    return rows.map((r) => ({ name: r.name, createdAt: r.created_at, privileged: r.privileged === 1 }));
  }

  get(did: string, name: string): AppPassword | undefined {
    const row = this.db
      .prepare('SELECT name, created_at, privileged FROM app_password WHERE did = ? AND name = ?')
      .get(did, name) as { name: string; created_at: string; privileged: number } | undefined;
    return row && { name: row.name, createdAt: row.created_at, privileged: row.privileged === 1 };
  }

  /** Deletes the app password and every session opened with it. */
  revoke(did: string, name: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM app_password WHERE did = ? AND name = ?').run(did, name);
      this.db.prepare('DELETE FROM refresh_token WHERE did = ? AND app_password_name = ?').run(did, name);
    });
  }

  /** The app password this password is, if any (each stored hash is checked in constant time). */
  async match(did: string, password: string): Promise<AppPassword | undefined> {
    if (!isAppPasswordFormat(password)) return undefined;
    const rows = this.db
      .prepare('SELECT name, created_at, privileged, password_hash FROM app_password WHERE did = ?')
      .all(did) as Array<{ name: string; created_at: string; privileged: number; password_hash: string }>;
    for (const row of rows) {
      if (await verifyPassword(password, row.password_hash)) {
        return { name: row.name, createdAt: row.created_at, privileged: row.privileged === 1 };
      }
    }
    return undefined;
  }
}
