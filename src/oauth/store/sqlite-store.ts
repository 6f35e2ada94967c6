// The OAuth store on the PDS's SQLite database. Dates are ISO strings (they sort as text, like
// the rest of the schema); structured values are JSON.
import type { Database } from '../../db/index.ts';
import type {
  ActiveSession,
  DeviceAccount,
  DeviceRecord,
  OAuthStore,
  RequestRecord,
  SessionRecord,
} from './types.ts';

interface RequestRow {
  id: string;
  client_id: string;
  client_auth: string;
  parameters: string;
  dpop_jkt: string;
  device_id: string | null;
  did: string | null;
  code_hash: string | null;
  created_at: string;
  expires_at: string;
}

interface SessionRow {
  id: string;
  did: string;
  client_id: string;
  client_auth: string;
  dpop_jkt: string;
  scope: string;
  permissions: string;
  parameters: string;
  code_hash: string | null;
  refresh_hash: string | null;
  device_id: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string;
  refresh_expires_at: string;
}

const iso = (d: Date) => d.toISOString();

function toRequest(row: RequestRow): RequestRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    clientAuth: JSON.parse(row.client_auth),
    parameters: JSON.parse(row.parameters),
    dpopJkt: row.dpop_jkt,
    deviceId: row.device_id,
    did: row.did,
    codeHash: row.code_hash,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
  };
}

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    did: row.did,
    clientId: row.client_id,
    clientAuth: JSON.parse(row.client_auth),
    dpopJkt: row.dpop_jkt,
    scope: row.scope,
    permissions: row.permissions,
    parameters: JSON.parse(row.parameters),
    codeHash: row.code_hash,
    refreshHash: row.refresh_hash,
    deviceId: row.device_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    expiresAt: new Date(row.expires_at),
    refreshExpiresAt: new Date(row.refresh_expires_at),
  };
}

const REQUEST_PATCH_COLUMNS = { deviceId: 'device_id', did: 'did', codeHash: 'code_hash', expiresAt: 'expires_at' } as const;

export class SqliteOAuthStore implements OAuthStore {
  constructor(private readonly db: Database) {}

  createRequest(r: RequestRecord): void {
    this.db
      .prepare(
        `INSERT INTO oauth_request (id, client_id, client_auth, parameters, dpop_jkt, device_id, did, code_hash, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.id, r.clientId, JSON.stringify(r.clientAuth), JSON.stringify(r.parameters), r.dpopJkt, r.deviceId, r.did, r.codeHash, iso(r.createdAt), iso(r.expiresAt));
  }

  readRequest(id: string): RequestRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_request WHERE id = ?').get(id) as RequestRow | undefined;
    return row && toRequest(row);
  }

  updateRequest(id: string, patch: Partial<Pick<RequestRecord, 'deviceId' | 'did' | 'codeHash' | 'expiresAt'>>): void {
    const entries = Object.entries(patch) as Array<[keyof typeof REQUEST_PATCH_COLUMNS, string | Date | null]>;
    if (entries.length === 0) return;
    const sets = entries.map(([key]) => `${REQUEST_PATCH_COLUMNS[key]} = ?`).join(', ');
    const values = entries.map(([, value]) => (value instanceof Date ? iso(value) : value));
    this.db.prepare(`UPDATE oauth_request SET ${sets} WHERE id = ?`).run(...values, id);
  }

  takeRequestByCode(codeHash: string): RequestRecord | undefined {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM oauth_request WHERE code_hash = ?').get(codeHash) as RequestRow | undefined;
      if (row) this.db.prepare('DELETE FROM oauth_request WHERE id = ?').run(row.id);
      return row && toRequest(row);
    });
  }

  deleteRequest(id: string): void {
    this.db.prepare('DELETE FROM oauth_request WHERE id = ?').run(id);
  }

  deleteExpiredRequests(now: Date): number {
    return this.db.prepare('DELETE FROM oauth_request WHERE expires_at < ?').run(iso(now)).changes;
  }

  createSession(s: SessionRecord): void {
    this.db
      .prepare(
        `INSERT INTO oauth_session (id, did, client_id, client_auth, dpop_jkt, scope, permissions, parameters, code_hash, refresh_hash,
           device_id, created_at, updated_at, expires_at, refresh_expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.did,
        s.clientId,
        JSON.stringify(s.clientAuth),
        s.dpopJkt,
        s.scope,
        s.permissions,
        JSON.stringify(s.parameters),
        s.codeHash,
        s.refreshHash,
        s.deviceId,
        iso(s.createdAt),
        iso(s.updatedAt),
        iso(s.expiresAt),
        iso(s.refreshExpiresAt),
      );
  }

  readSession(id: string): SessionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_session WHERE id = ?').get(id) as SessionRow | undefined;
    return row && toSession(row);
  }

  readActiveSession(id: string): ActiveSession | undefined {
    const row = this.db.prepare('SELECT did, permissions, expires_at FROM oauth_session WHERE id = ?').get(id) as
      | { did: string; permissions: string; expires_at: string }
      | undefined;
    return row && { did: row.did, permissions: row.permissions, expiresAt: new Date(row.expires_at) };
  }

  findSessionByRefresh(refreshHash: string): SessionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_session WHERE refresh_hash = ?').get(refreshHash) as SessionRow | undefined;
    return row && toSession(row);
  }

  findSessionByCode(codeHash: string): SessionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_session WHERE code_hash = ?').get(codeHash) as SessionRow | undefined;
    return row && toSession(row);
  }

  findSessionByUsedRefresh(refreshHash: string): string | undefined {
    const row = this.db.prepare('SELECT session_id FROM oauth_used_refresh WHERE refresh_hash = ?').get(refreshHash) as { session_id: string } | undefined;
    return row?.session_id;
  }

  rotateRefresh(id: string, oldHash: string, next: Pick<SessionRecord, 'refreshHash' | 'updatedAt' | 'refreshExpiresAt' | 'permissions'>): boolean {
    return this.db.transaction(() => {
      const changed = this.db
        .prepare('UPDATE oauth_session SET refresh_hash = ?, updated_at = ?, refresh_expires_at = ?, permissions = ? WHERE id = ? AND refresh_hash = ?')
        .run(next.refreshHash, iso(next.updatedAt), iso(next.refreshExpiresAt), next.permissions, id, oldHash).changes;
      if (changed === 0) return false;
      this.db.prepare('INSERT OR IGNORE INTO oauth_used_refresh (refresh_hash, session_id) VALUES (?, ?)').run(oldHash, id);
      return true;
    });
  }

  deleteSession(id: string): void {
    this.db.prepare('DELETE FROM oauth_session WHERE id = ?').run(id);
  }

  listSessions(did: string): SessionRecord[] {
    const rows = this.db.prepare('SELECT * FROM oauth_session WHERE did = ? ORDER BY created_at DESC').all(did) as SessionRow[];
    return rows.map(toSession);
  }

  createDevice(d: DeviceRecord): void {
    this.db
      .prepare('INSERT INTO oauth_device (id, secret_hash, user_agent, ip, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(d.id, d.secretHash, d.userAgent, d.ip, iso(d.createdAt), iso(d.lastSeenAt));
  }

  readDevice(id: string): DeviceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM oauth_device WHERE id = ?').get(id) as
      | { id: string; secret_hash: string; user_agent: string | null; ip: string | null; created_at: string; last_seen_at: string }
      | undefined;
    return (
      row && {
        id: row.id,
        secretHash: row.secret_hash,
        userAgent: row.user_agent,
        ip: row.ip,
        createdAt: new Date(row.created_at),
        lastSeenAt: new Date(row.last_seen_at),
      }
    );
  }

  touchDevice(id: string, seen: { lastSeenAt: Date; userAgent: string | null; ip: string | null }): void {
    this.db.prepare('UPDATE oauth_device SET last_seen_at = ?, user_agent = ?, ip = ? WHERE id = ?').run(iso(seen.lastSeenAt), seen.userAgent, seen.ip, id);
  }

  upsertDeviceAccount(deviceId: string, a: DeviceAccount): void {
    this.db
      .prepare(
        `INSERT INTO oauth_device_account (device_id, did, authenticated_at, remember) VALUES (?, ?, ?, ?)
         ON CONFLICT (device_id, did) DO UPDATE SET authenticated_at = excluded.authenticated_at, remember = excluded.remember`,
      )
      .run(deviceId, a.did, iso(a.authenticatedAt), a.remember ? 1 : 0);
  }

  listDeviceAccounts(deviceId: string): DeviceAccount[] {
    const rows = this.db
      .prepare('SELECT did, authenticated_at, remember FROM oauth_device_account WHERE device_id = ? ORDER BY authenticated_at DESC')
      .all(deviceId) as Array<{ did: string; authenticated_at: string; remember: number }>;
    return rows.map((r) => ({ did: r.did, authenticatedAt: new Date(r.authenticated_at), remember: r.remember === 1 }));
  }

  removeDeviceAccount(deviceId: string, did: string): void {
    this.db.prepare('DELETE FROM oauth_device_account WHERE device_id = ? AND did = ?').run(deviceId, did);
  }

  readAuthorizedScopes(did: string, clientId: string): string[] | undefined {
    const row = this.db.prepare('SELECT scope FROM oauth_authorized_client WHERE did = ? AND client_id = ?').get(did, clientId) as { scope: string } | undefined;
    return row?.scope.split(' ').filter((s) => s !== '');
  }

  addAuthorizedScopes(did: string, clientId: string, scopes: readonly string[], now: Date): void {
    this.db.transaction(() => {
      const known = new Set(this.readAuthorizedScopes(did, clientId) ?? []);
      for (const scope of scopes) known.add(scope);
      this.db
        .prepare(
          `INSERT INTO oauth_authorized_client (did, client_id, scope, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (did, client_id) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at`,
        )
        .run(did, clientId, [...known].join(' '), iso(now), iso(now));
    });
  }

  removeAuthorizedClient(did: string, clientId: string): void {
    this.db.prepare('DELETE FROM oauth_authorized_client WHERE did = ? AND client_id = ?').run(did, clientId);
  }
}
