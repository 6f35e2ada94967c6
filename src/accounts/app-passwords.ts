import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { hashPassword } from '../auth/password.ts';
import type { Database } from '../db/index.ts';
import { AccountError } from './errors.ts';

export interface AppPassword {
  /** Immutable and never reused: what sessions opened with it are bound to (a name can come back). */
  id: string;
  name: string;
  createdAt: string;
  privileged: boolean;
}

/** A stored app password as a login verifies it. */
export interface AppPasswordCandidate extends AppPassword {
  passwordHash: string;
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

interface Row {
  id: string;
  name: string;
  created_at: string;
  privileged: number;
}

const toAppPassword = (row: Row): AppPassword => ({ id: row.id, name: row.name, createdAt: row.created_at, privileged: row.privileged === 1 });

/**
 * App passwords. Each row keeps an scrypt hash (the check) and a keyed digest (the lookup):
 * HMAC-SHA256 under a server secret, prefixed with that key's id. A login computes the digest of
 * what it was given and verifies only the row it names, so its cost does not grow with the number
 * of app passwords. A row whose digest is missing or made with another key (stored before
 * digests existed, or before the secret changed) is a legacy row: `legacyCandidates` lists them for
 * the slow path, and `recordDigest` upgrades one once it has been verified.
 */
export class AppPasswords {
  readonly #key: Buffer;
  readonly #keyId: string;

  constructor(
    private readonly db: Database,
    lookupKey: Buffer,
  ) {
    this.#key = lookupKey;
    this.#keyId = createHmac('sha256', lookupKey).update('key-id').digest('hex').slice(0, 16);
  }

  /** The lookup digest of a presented app password under the current key. */
  lookupDigest(password: string): string {
    return `${this.#keyId}.${createHmac('sha256', this.#key).update(password).digest('hex')}`;
  }

  async create(did: string, name: string, privileged: boolean): Promise<AppPassword & { password: string }> {
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 100) throw new AccountError('InvalidInput', 'App password name must be 1 to 100 characters');
    const password = generate();
    const passwordHash = await hashPassword(password);
    const createdAt = new Date().toISOString();
    const id = randomBytes(16).toString('hex');
    this.db.transaction(() => {
      const count = (this.db.prepare('SELECT count(*) AS n FROM app_password WHERE did = ?').get(did) as { n: number }).n;
      if (count >= MAX_APP_PASSWORDS) throw new AccountError('TooManyAppPasswords', `An account can hold at most ${MAX_APP_PASSWORDS} app passwords`);
      const exists = this.db.prepare('SELECT 1 FROM app_password WHERE did = ? AND name = ?').get(did, trimmed);
      if (exists) throw new AccountError('DuplicateAppPassword', 'An app password with this name already exists');
      this.db
        .prepare('INSERT INTO app_password (id, did, name, password_hash, privileged, created_at, lookup_digest) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, did, trimmed, passwordHash, privileged ? 1 : 0, createdAt, this.lookupDigest(password));
    });
    return { id, name: trimmed, password, createdAt, privileged };
  }

  list(did: string): AppPassword[] {
    const rows = this.db.prepare('SELECT id, name, created_at, privileged FROM app_password WHERE did = ? ORDER BY created_at DESC').all(did) as Row[];
    return rows.map(toAppPassword);
  }

  /** The app password with this id, if it still exists and belongs to the account. */
  byId(did: string, id: string): AppPassword | undefined {
    const row = this.db.prepare('SELECT id, name, created_at, privileged FROM app_password WHERE id = ? AND did = ?').get(id, did) as Row | undefined;
    return row && toAppPassword(row);
  }

  /** Deletes the app password and every session opened with it. */
  revoke(did: string, name: string): void {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT id FROM app_password WHERE did = ? AND name = ?').get(did, name) as { id: string } | undefined;
      if (!row) return;
      this.db.prepare('DELETE FROM app_password WHERE id = ?').run(row.id);
      this.db.prepare('DELETE FROM refresh_token WHERE app_password_id = ?').run(row.id);
    });
  }

  /** The one app password of the account whose lookup digest is this one, if any. */
  candidateByDigest(did: string, digest: string): AppPasswordCandidate | undefined {
    const row = this.db
      .prepare('SELECT id, name, created_at, privileged, password_hash FROM app_password WHERE lookup_digest = ? AND did = ?')
      .get(digest, did) as (Row & { password_hash: string }) | undefined;
    return row && { ...toAppPassword(row), passwordHash: row.password_hash };
  }

  /** The account's app passwords without a digest under the current key (the slow path's candidates). */
  legacyCandidates(did: string): AppPasswordCandidate[] {
    const rows = this.db
      .prepare("SELECT id, name, created_at, privileged, password_hash FROM app_password WHERE did = ? AND (lookup_digest IS NULL OR lookup_digest NOT LIKE ? || '.%')")
      .all(did, this.#keyId) as Array<Row & { password_hash: string }>;
    return rows.map((row) => ({ ...toAppPassword(row), passwordHash: row.password_hash }));
  }

  /** Stores the lookup digest of an app password that was just verified the slow way. */
  recordDigest(id: string, digest: string): void {
    this.db.prepare('UPDATE app_password SET lookup_digest = ? WHERE id = ?').run(digest, id);
  }
}
