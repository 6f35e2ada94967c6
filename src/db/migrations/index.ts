import type { Migration } from '../migrate.ts';
import core from './0001-core.ts';
import repoBlocks from './0002-repo-blocks.ts';
import accounts from './0003-accounts.ts';
import repo from './0004-repo.ts';
import blobs from './0005-blobs.ts';
import accountArriving from './0006-account-arriving.ts';
import appPasswordIds from './0007-app-password-ids.ts';
import localPlc from './0008-local-plc.ts';
import refreshFamilies from './0009-refresh-families.ts';
import emailAuthFactor from './0010-email-auth-factor.ts';
import recordRev from './0011-record-rev.ts';
import oauth from './0012-oauth.ts';
import dropBlockRevIndex from './0013-drop-block-rev-index.ts';
import recordBytes from './0014-record-bytes.ts';

/** Every migration of the PDS database, in order. */
export const migrations: readonly Migration[] = [
  core,
  repoBlocks,
  accounts,
  repo,
  blobs,
  accountArriving,
  appPasswordIds,
  localPlc,
  refreshFamilies,
  emailAuthFactor,
  recordRev,
  oauth,
  dropBlockRevIndex,
  recordBytes,
];
