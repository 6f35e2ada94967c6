import type { AuthState } from '../../../../auth/types.ts';
import type { AppContext } from '../../../../context.ts';
import { XrpcError } from '../../../../xrpc/index.ts';
import { assertRepoReadable } from '../../../repo-access.ts';

/**
 * A repo the sync methods may serve: it must exist here, and be readable by the caller (anyone
 * while active; its owner also while deactivated, arriving or leaving a takedown).
 */
export function resolveSyncRepo(ctx: AppContext, did: string, auth: AuthState): string {
  const account = ctx.accounts.refByDid(did);
  if (!account || !ctx.repo.hasRepo(did)) throw new XrpcError(400, 'RepoNotFound', `Could not find repo for DID: ${did}`);
  assertRepoReadable(account, auth);
  return did;
}
