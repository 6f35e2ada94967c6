import type { Migration } from '../migrate.ts';

/**
 * Records by the rev that last wrote them: read-after-write asks for an account's records newer
 * than the rev an AppView has indexed (a few, right after a write) and must not scan the repo.
 */
const migration: Migration = {
  id: 11,
  name: 'record-rev',
  up(db) {
    db.exec('CREATE INDEX record_rev ON record(did, rev)');
  },
};

export default migration;
