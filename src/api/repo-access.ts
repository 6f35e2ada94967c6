import { assertAllowed } from '../accounts/account-policy.ts';
import { accountState, type Account, type AccountRef } from '../accounts/account-store.ts';
import { requireAccess, type AuthState } from '../auth/types.ts';
import type { AppContext } from '../context.ts';
import { RepoWriteError } from '../repo/write-errors.ts';
import { ForbiddenError } from '../xrpc/index.ts';

function accountOf(ctx: AppContext, repo: string): Account {
  const account = repo.startsWith('did:') ? ctx.accounts.byDid(repo) : ctx.accounts.byHandle(repo);
  if (!account) throw new RepoWriteError('RepoNotFound', `Could not find repo: ${repo}`);
  return account;
}

/**
 * Whether the caller may read this account's repo (records, blocks, blobs) now: anyone while it
 * is active (`publicRepoRead`), its own owner in any state it may export its data in
 * (`exportOwnData`: deactivated, arriving, or taken down and leaving).
 */
export function assertRepoReadable(account: AccountRef, auth: AuthState): void {
  const own = auth.type === 'access' && auth.did === account.did;
  assertAllowed(accountState(account), own ? 'exportOwnData' : 'publicRepoRead');
}

/** The account whose repo a read names (DID or handle), if the caller may read it now. */
export function readableRepo(ctx: AppContext, repo: string, auth: AuthState): Account {
  const account = accountOf(ctx, repo);
  assertRepoReadable(account, auth);
  return account;
}

/** The DID of the repo a record read names, if the caller may read it now (reads only the state). */
export function readableRepoDid(ctx: AppContext, repo: string, auth: AuthState): string {
  const account = ctx.accounts.refByRepo(repo);
  if (!account) throw new RepoWriteError('RepoNotFound', `Could not find repo: ${repo}`);
  assertRepoReadable(account, auth);
  return account.did;
}

/**
 * The repo a write names (DID or handle) must be the caller's own; returns its DID. Whether the
 * account may write records now was checked with the session (`accountAction: 'writeRecords'`).
 */
export function writableRepo(ctx: AppContext, auth: AuthState, repo: string): string {
  const access = requireAccess(auth);
  // The caller's own repo by DID (the common case) needs no read: the session is this account's.
  if (repo === access.did) return access.did;
  const account = accountOf(ctx, repo);
  if (account.did !== access.did) throw new ForbiddenError('Cannot write to the repo of another account');
  return account.did;
}
