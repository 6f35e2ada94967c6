import type { Migration } from '../migrate.ts';

/** Email as a second sign-in factor (`emailAuthFactor`): off until the account's owner turns it on. */
const migration: Migration = {
  id: 10,
  name: 'email-auth-factor',
  up(db) {
    db.exec('ALTER TABLE account ADD COLUMN email_auth_factor INTEGER NOT NULL DEFAULT 0');
  },
};

export default migration;
