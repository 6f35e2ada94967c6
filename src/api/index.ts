import { AUTH_ERROR_NAMES, buildVerifiers } from '../auth/verifiers.ts';
import type { AuthState } from '../auth/types.ts';
import type { AppContext } from '../context.ts';
import { formatValidators } from '../syntax/index.ts';
import { Registry } from '../xrpc/index.ts';
import { applyAccountPolicy } from './account-access.ts';
import './account-errors.ts';
import './blob-errors.ts';
import './repo-errors.ts';
import './sync-errors.ts';
import { accountMethods } from './account-methods.ts';
import { identityMethods } from './identity-methods.ts';
import { toMethodDef, type AppMethod } from './define.ts';
import health from './_health.ts';
import adminStatus from './_admin/status.ts';
import getPreferences from './app/bsky/actor/getPreferences.ts';
import putPreferences from './app/bsky/actor/putPreferences.ts';
import applyWrites from './com/atproto/repo/applyWrites.ts';
import createRecord from './com/atproto/repo/createRecord.ts';
import deleteRecord from './com/atproto/repo/deleteRecord.ts';
import describeRepo from './com/atproto/repo/describeRepo.ts';
import getRecord from './com/atproto/repo/getRecord.ts';
import importRepo from './com/atproto/repo/importRepo.ts';
import listMissingBlobs from './com/atproto/repo/listMissingBlobs.ts';
import listRecords from './com/atproto/repo/listRecords.ts';
import uploadBlob from './com/atproto/repo/uploadBlob.ts';
import putRecord from './com/atproto/repo/putRecord.ts';
import createAccount from './com/atproto/server/createAccount.ts';
import createAppPassword from './com/atproto/server/createAppPassword.ts';
import createSession from './com/atproto/server/createSession.ts';
import deleteSession from './com/atproto/server/deleteSession.ts';
import describeServer from './com/atproto/server/describeServer.ts';
import getSession from './com/atproto/server/getSession.ts';
import listAppPasswords from './com/atproto/server/listAppPasswords.ts';
import refreshSession from './com/atproto/server/refreshSession.ts';
import revokeAppPassword from './com/atproto/server/revokeAppPassword.ts';
import getBlob from './com/atproto/sync/getBlob.ts';
import getBlocks from './com/atproto/sync/getBlocks.ts';
import getCheckout from './com/atproto/sync/getCheckout.ts';
import getHead from './com/atproto/sync/getHead.ts';
import listBlobs from './com/atproto/sync/listBlobs.ts';
import getLatestCommit from './com/atproto/sync/getLatestCommit.ts';
import getRepo from './com/atproto/sync/getRepo.ts';
import syncGetRecord from './com/atproto/sync/getRecord.ts';
import getRepoStatus from './com/atproto/sync/getRepoStatus.ts';
import listRepos from './com/atproto/sync/listRepos.ts';
import notifyOfUpdate from './com/atproto/sync/notifyOfUpdate.ts';
import subscribeRepos from './com/atproto/sync/subscribeRepos.ts';

export { mapDomainError } from './errors.ts';

/** Every XRPC method the server offers. */
export const methods: readonly AppMethod[] = [
  health,
  adminStatus,
  describeServer,
  createAccount,
  createSession,
  getSession,
  refreshSession,
  deleteSession,
  createAppPassword,
  listAppPasswords,
  revokeAppPassword,
  createRecord,
  putRecord,
  deleteRecord,
  applyWrites,
  getRecord,
  listRecords,
  describeRepo,
  getLatestCommit,
  getRepo,
  getHead,
  getCheckout,
  syncGetRecord,
  getBlocks,
  getRepoStatus,
  listRepos,
  subscribeRepos,
  notifyOfUpdate,
  uploadBlob,
  getBlob,
  listBlobs,
  listMissingBlobs,
  importRepo,
  getPreferences,
  putPreferences,
  ...accountMethods,
  ...identityMethods,
];

/** The method table, built once at start: validators and coercers are compiled here. */
export function buildRegistry(ctx: AppContext): Registry<AppContext, AuthState> {
  const table = applyAccountPolicy(methods.map(toMethodDef), buildVerifiers(ctx));
  // their input schemas too, so no method's first call reads and compiles them
  ctx.lexicons.prepareInputs(table.methods.map((m) => m.nsid));
  return new Registry<AppContext, AuthState>({
    schemas: ctx.lexicons,
    formats: formatValidators,
    verifiers: table.verifiers,
    defaultJsonLimit: ctx.config.service.jsonBodyLimit,
    authErrorNames: AUTH_ERROR_NAMES,
  }).addAll(table.methods);
}
