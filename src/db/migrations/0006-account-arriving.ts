import type { Migration } from '../migrate.ts';

/**
 * `arriving_at`: set while an account created here by migration (createAccount for an existing
 * DID) has not been activated. Such an account is deactivated too, so everything that only knows
 * "deactivated" keeps treating it as not live; the policy (accounts/account-policy.ts) lets it
 * fill itself in.
 */
const migration: Migration = {
  id: 6,
  name: 'account-arriving',
  up(db) {
    db.exec('ALTER TABLE account ADD COLUMN arriving_at TEXT');
  },
};

export default migration;
