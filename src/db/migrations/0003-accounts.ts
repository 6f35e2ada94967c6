import type { Migration } from '../migrate.ts';

/**
 * Accounts and everything that authenticates them. Handles and emails are stored lower-cased,
 * so uniqueness is case-insensitive by construction.
 */
const migration: Migration = {
  id: 3,
  name: 'accounts',
  up(db) {
    db.exec(`
      CREATE TABLE account (
        did TEXT PRIMARY KEY,
        handle TEXT NOT NULL UNIQUE,
        email TEXT UNIQUE,
        email_confirmed_at TEXT,
        password_hash TEXT NOT NULL,
        signing_key TEXT NOT NULL,
        signing_key_did TEXT NOT NULL,
        created_at TEXT NOT NULL,
        deactivated_at TEXT,
        delete_after TEXT,
        takedown_ref TEXT,
        invites_disabled INTEGER NOT NULL DEFAULT 0
      );

      CREATE TABLE app_password (
        did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        privileged INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        PRIMARY KEY (did, name)
      ) WITHOUT ROWID;

      CREATE TABLE refresh_token (
        id TEXT PRIMARY KEY,
        did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        app_password_name TEXT,
        expires_at TEXT NOT NULL,
        next_id TEXT
      ) WITHOUT ROWID;
      CREATE INDEX refresh_token_did ON refresh_token(did);

      CREATE TABLE invite_code (
        code TEXT PRIMARY KEY,
        available_uses INTEGER NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        for_account TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX invite_code_for_account ON invite_code(for_account);

      CREATE TABLE invite_code_use (
        code TEXT NOT NULL REFERENCES invite_code(code),
        used_by TEXT NOT NULL,
        used_at TEXT NOT NULL,
        PRIMARY KEY (code, used_by)
      ) WITHOUT ROWID;

      CREATE TABLE email_token (
        purpose TEXT NOT NULL,
        did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        token TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        PRIMARY KEY (purpose, did)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX email_token_token ON email_token(purpose, token);

      CREATE TABLE reserved_signing_key (
        public_key_did TEXT PRIMARY KEY,
        private_key TEXT NOT NULL,
        did TEXT,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX reserved_signing_key_did ON reserved_signing_key(did);
    `);
  },
};

export default migration;
