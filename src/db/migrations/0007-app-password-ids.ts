import type { Migration } from '../migrate.ts';

/**
 * App passwords get an immutable id, and sessions are bound to it instead of the name: a name can
 * be reused after a revocation, an id never is (so a revoked app password's sessions cannot come
 * back with a new one of the same name). Existing app passwords get a random id and their
 * sessions follow them.
 *
 * `lookup_digest`: `<key id>.<HMAC-SHA256 of the app password, hex>`, keyed by a server secret, so
 * a login finds the one app password to verify instead of trying each. Existing rows have none:
 * they get it at their next successful use (until then a login tries them the slow way).
 */
const migration: Migration = {
  id: 7,
  name: 'app-password-ids',
  up(db) {
    db.exec(`
      CREATE TABLE app_password_new (
        id TEXT PRIMARY KEY,
        did TEXT NOT NULL REFERENCES account(did) ON DELETE CASCADE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        privileged INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        lookup_digest TEXT,
        UNIQUE (did, name)
      ) WITHOUT ROWID;
      INSERT INTO app_password_new (id, did, name, password_hash, privileged, created_at)
        SELECT lower(hex(randomblob(16))), did, name, password_hash, privileged, created_at FROM app_password;
      DROP TABLE app_password;
      ALTER TABLE app_password_new RENAME TO app_password;
      CREATE INDEX app_password_lookup ON app_password(lookup_digest);

      ALTER TABLE refresh_token ADD COLUMN app_password_id TEXT;
      UPDATE refresh_token SET app_password_id =
        (SELECT id FROM app_password p WHERE p.did = refresh_token.did AND p.name = refresh_token.app_password_name)
        WHERE app_password_name IS NOT NULL;
      -- A session whose app password is gone was already dead; make sure it stays so.
      DELETE FROM refresh_token WHERE app_password_name IS NOT NULL AND app_password_id IS NULL;
      ALTER TABLE refresh_token DROP COLUMN app_password_name;
      CREATE INDEX refresh_token_app_password ON refresh_token(app_password_id);
    `);
  },
};

export default migration;
