import type { Migration } from '../migrate.ts';

/**
 * OAuth: pushed authorization requests, sessions (one per grant, with its current refresh token),
 * refresh tokens already rotated away (so a replay revokes the session), the browsers that signed
 * in to the authorization pages and the accounts each remembers, and which apps each account has
 * approved. Tokens and codes are stored as SHA-256 hashes, never as themselves.
 */
const migration: Migration = {
  id: 12,
  name: 'oauth',
  up(db) {
    db.exec(`
      CREATE TABLE oauth_request (
        id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        client_auth TEXT NOT NULL,
        parameters TEXT NOT NULL,
        dpop_jkt TEXT NOT NULL,
        device_id TEXT,
        did TEXT,
        code_hash TEXT UNIQUE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX oauth_request_expires_at ON oauth_request(expires_at);

      CREATE TABLE oauth_session (
        id TEXT PRIMARY KEY,
        did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        client_id TEXT NOT NULL,
        client_auth TEXT NOT NULL,
        dpop_jkt TEXT NOT NULL,
        scope TEXT NOT NULL,
        permissions TEXT NOT NULL,
        parameters TEXT NOT NULL,
        code_hash TEXT UNIQUE,
        refresh_hash TEXT UNIQUE,
        device_id TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        refresh_expires_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX oauth_session_did ON oauth_session(did);

      CREATE TABLE oauth_used_refresh (
        refresh_hash TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES oauth_session(id) ON DELETE CASCADE
      ) WITHOUT ROWID;
      CREATE INDEX oauth_used_refresh_session ON oauth_used_refresh(session_id);

      CREATE TABLE oauth_device (
        id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        user_agent TEXT,
        ip TEXT,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE oauth_device_account (
        device_id TEXT NOT NULL REFERENCES oauth_device(id) ON DELETE CASCADE,
        did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        authenticated_at TEXT NOT NULL,
        remember INTEGER NOT NULL,
        PRIMARY KEY (device_id, did)
      ) WITHOUT ROWID;
      CREATE INDEX oauth_device_account_did ON oauth_device_account(did);

      CREATE TABLE oauth_authorized_client (
        did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        client_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (did, client_id)
      ) WITHOUT ROWID;
    `);
  },
};

export default migration;
