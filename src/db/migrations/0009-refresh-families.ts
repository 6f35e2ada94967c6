import type { Migration } from '../migrate.ts';

/**
 * Refresh tokens rotate within a session family (the login's first token id, `family_id`), and a
 * used token keeps a short retry window (`grace_until`) in which it answers its successor
 * (`next_id`, a column the first schema already had) again. Existing sessions become families of
 * their own.
 */
const migration: Migration = {
  id: 9,
  name: 'refresh-families',
  up(db) {
    db.exec(`
      ALTER TABLE refresh_token ADD COLUMN family_id TEXT;
      ALTER TABLE refresh_token ADD COLUMN grace_until TEXT;
      UPDATE refresh_token SET family_id = id, next_id = NULL;
      CREATE INDEX refresh_token_family ON refresh_token(did, family_id);
    `);
  },
};

export default migration;
