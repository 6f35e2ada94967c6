import type { Database } from '../db/index.ts';

/** A refresh token as the server keeps it: its session family, and where it led once used. */
export interface StoredRefreshToken {
  id: string;
  did: string;
  appPasswordId: string | null;
  /** The session family: the id of the token the login issued. */
  familyId: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** The token this one was traded for; null while it is the session's current one. */
  nextId: string | null;
  /** Until when a used token may be presented again for `nextId` (milliseconds); null while unused. */
  graceUntil: number | null;
}

interface Row {
  id: string;
  did: string;
  app_password_id: string | null;
  family_id: string;
  expires_at: string;
  next_id: string | null;
  grace_until: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Storage of refresh tokens: every query the session logic needs, nothing of its rules. */
export class RefreshTokens {
  constructor(private readonly db: Database) {}

  get(id: string): StoredRefreshToken | undefined {
    const row = this.db
      .prepare('SELECT id, did, app_password_id, family_id, expires_at, next_id, grace_until FROM refresh_token WHERE id = ?')
      .get(id) as Row | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      did: row.did,
      appPasswordId: row.app_password_id,
      familyId: row.family_id,
      expiresAt: Date.parse(row.expires_at),
      nextId: row.next_id,
      graceUntil: row.grace_until === null ? null : Date.parse(row.grace_until),
    };
  }

  insert(token: Omit<StoredRefreshToken, 'nextId' | 'graceUntil'>): void {
    this.db
      .prepare('INSERT INTO refresh_token (id, did, app_password_id, family_id, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(token.id, token.did, token.appPasswordId, token.familyId, iso(token.expiresAt));
  }

  /** Records that `id` was traded for `nextId`, and how long it may be retried. */
  markUsed(id: string, nextId: string, graceUntil: number): void {
    this.db.prepare('UPDATE refresh_token SET next_id = ?, grace_until = ? WHERE id = ?').run(nextId, iso(graceUntil), id);
  }

  /**
   * Drops an account's tokens that can no longer be used: expired ones, and used ones past their
   * retry window (a replay of those is still recognised by its family, which the token carries).
   */
  deleteSpent(did: string, now: number): void {
    const at = iso(now);
    this.db.prepare('DELETE FROM refresh_token WHERE did = ? AND (expires_at < ? OR grace_until < ?)').run(did, at, at);
  }

  /** Ends a whole session family; the number of tokens it still had. */
  deleteFamily(did: string, familyId: string): number {
    return Number(this.db.prepare('DELETE FROM refresh_token WHERE did = ? AND family_id = ?').run(did, familyId).changes);
  }

  deleteAll(did: string): void {
    this.db.prepare('DELETE FROM refresh_token WHERE did = ?').run(did);
  }
}
