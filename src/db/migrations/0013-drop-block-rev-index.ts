import type { Migration } from '../migrate.ts';

/**
 * Drops the (did, rev) index of `repo_block`. Every commit inserted one entry into it for each new
 * block and deleted one for each orphaned block, for the sake of `getRepo` with `since`, a rare
 * request: ~1.9 of the ~22 pages a createRecord writes, and a B-tree insert or delete more per
 * block. `since` is now answered by reading the repo's blocks in CID order and keeping those of a
 * later rev: the work of a full export, which any client may already ask for.
 */
const migration: Migration = {
  id: 13,
  name: 'drop-block-rev-index',
  up(db) {
    db.exec('DROP INDEX IF EXISTS repo_block_rev');
  },
};

export default migration;
