import { accountStatus } from '../../../../accounts/account-store.ts';
import type { AppContext } from '../../../../context.ts';
import { XrpcError } from '../../../../xrpc/index.ts';

/**
 * A repo the sync methods may serve: it must exist here and be neither taken down nor
 * deactivated (the sync Lexicons name these errors).
 */
export function resolveSyncRepo(ctx: AppContext, did: string): string {
  const account = ctx.accounts.byDid(did);
  if (!account || !ctx.repo.hasRepo(did)) throw new XrpcError(400, 'RepoNotFound', `Could not find repo for DID: ${did}`);
  const status = accountStatus(account);
  if (status === 'takendown') throw new XrpcError(400, 'RepoTakendown', `Repo has been taken down: ${did}`);
  if (status === 'deactivated') throw new XrpcError(400, 'RepoDeactivated', `Repo has been deactivated: ${did}`);
  return did;
}
