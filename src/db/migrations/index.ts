import type { Migration } from '../migrate.ts';
import core from './0001-core.ts';
import accounts from './0003-accounts.ts';
import repo from './0004-repo.ts';

/** Every migration of the PDS database, in order. */
export const migrations: readonly Migration[] = [core, accounts, repo];
