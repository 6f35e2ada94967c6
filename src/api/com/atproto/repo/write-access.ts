import { accountStatus, type AccountStatus } from '../../../../accounts/account-store.ts';
import { requireAccess, type AuthState } from '../../../../auth/types.ts';
import type { AppContext } from '../../../../context.ts';
import { RepoWriteError } from '../../../../repo/write-errors.ts';
import { ForbiddenError } from '../../../../xrpc/index.ts';

/**
 * The repo a write names (DID or handle) must be the caller's own, and active. Returns its DID.
 */
export function resolveWritableRepo(ctx: AppContext, auth: AuthState, repo: string): string {
  const access = requireAccess(auth);
  // The caller's own repo by DID (the common case): auth has just read this account's status in
  // this same request, so it is not read again.
  if (repo === access.did) return checkWritable(access.status, access.did);
  const account = repo.startsWith('did:') ? ctx.accounts.byDid(repo) : ctx.accounts.byHandle(repo);
  if (!account) throw new RepoWriteError('RepoNotFound', `Could not find repo: ${repo}`);
  if (account.did !== access.did) throw new ForbiddenError('Cannot write to the repo of another account');
  return checkWritable(accountStatus(account), account.did);
}

function checkWritable(status: AccountStatus, did: string): string {
  if (status === 'deactivated') throw new RepoWriteError('RepoDeactivated', 'Account is deactivated');
  if (status === 'takendown') throw new RepoWriteError('RepoTakendown', 'Account has been taken down');
  return did;
}

/** The repo a read names, if it exists and may be read (not taken down, not deactivated). */
export function resolveReadableRepo(ctx: AppContext, repo: string): string {
  const account = repo.startsWith('did:') ? ctx.accounts.byDid(repo) : ctx.accounts.byHandle(repo);
  if (!account) throw new RepoWriteError('RepoNotFound', `Could not find repo: ${repo}`);
  const status = accountStatus(account);
  if (status === 'takendown') throw new RepoWriteError('RepoTakendown', `Repo has been taken down: ${repo}`);
  if (status === 'deactivated') throw new RepoWriteError('RepoDeactivated', `Repo has been deactivated: ${repo}`);
  return account.did;
}
