import { accountStatus } from '../../../../accounts/account-store.ts';
import { requireAccess, type AuthState } from '../../../../auth/types.ts';
import type { AppContext } from '../../../../context.ts';
import { RepoWriteError } from '../../../../repo/write-errors.ts';
import { ForbiddenError } from '../../../../xrpc/index.ts';

/**
 * The repo a write names (DID or handle) must be the caller's own, and active. Returns its DID.
 */
export function resolveWritableRepo(ctx: AppContext, auth: AuthState, repo: string): string {
  const access = requireAccess(auth);
  const account = repo.startsWith('did:') ? ctx.accounts.byDid(repo) : ctx.accounts.byHandle(repo);
  if (!account) throw new RepoWriteError('RepoNotFound', `Could not find repo: ${repo}`);
  if (account.did !== access.did) throw new ForbiddenError('Cannot write to the repo of another account');
  const status = accountStatus(account);
  if (status === 'deactivated') throw new RepoWriteError('RepoDeactivated', 'Account is deactivated');
  if (status === 'takendown') throw new RepoWriteError('RepoTakendown', 'Account has been taken down');
  return account.did;
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
