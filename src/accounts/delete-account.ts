import { decoyHash, verifyPassword } from '../auth/password.ts';
import type { Database } from '../db/index.ts';
import type { RepoService } from '../repo/repo-service.ts';
import type { SigningKeys } from '../repo/signing-keys.ts';
import type { SequencerLog } from '../sync/sequencer-log.ts';
import { assertAllowed } from './account-policy.ts';
import { accountState, type AccountStore } from './account-store.ts';
import type { EmailTokens } from './email-tokens.ts';
import { AccountError } from './errors.ts';

/** Whatever stores an account's blobs (metadata and bytes); it deletes them after the account is gone. */
export interface AccountBlobRemover {
  deleteAccountBlobs(did: string): Promise<void>;
}

export interface DeleteAccountDeps {
  db: Database;
  accounts: AccountStore;
  repo: Pick<RepoService, 'deleteRepo'>;
  sequencer: SequencerLog;
  signingKeys: Pick<SigningKeys, 'forget'>;
  blobs?: AccountBlobRemover;
}

/**
 * Deletes an account and everything the server holds for it, in one durable transaction under
 * the repo lock: blocks, records, root and preferences (the repo service), then the account row,
 * whose foreign keys take its sessions, app passwords and email codes with it, and reserved
 * keys. The same transaction appends the `#account` event (`deleted`) and drops the account's
 * older events from the log, as the official PDS does: a consumer backfilling from an old
 * cursor should not receive content the person deleted. Blobs go after the commit.
 */
export async function deleteAccount(deps: DeleteAccountDeps, did: string): Promise<void> {
  await deps.repo.deleteRepo(did, () => {
    // Checked inside the transaction: a concurrent deletion makes this one fail as a whole.
    if (!deps.accounts.byDid(did)) throw new AccountError('AccountNotFound', 'Account not found');
    deps.db.prepare('DELETE FROM reserved_signing_key WHERE did = ?').run(did);
    deps.accounts.delete(did);
    const seq = deps.sequencer.append(did, 'account', { did, active: false, status: 'deleted' });
    deps.db.prepare('DELETE FROM repo_seq WHERE did = ? AND seq < ?').run(did, seq);
  });
  deps.signingKeys.forget(did);
  if (deps.blobs) await deps.blobs.deleteAccountBlobs(did);
}

/**
 * `com.atproto.server.deleteAccount`: the account's password (not an app password) and the
 * emailed code. An unknown DID costs a decoy hash and reads like a wrong password, so the
 * method does not reveal which DIDs have accounts here.
 */
export async function deleteAccountWithCredentials(
  deps: DeleteAccountDeps & { tokens: EmailTokens },
  input: { did: string; password: string; token: string },
): Promise<void> {
  const account = deps.accounts.byDid(input.did);
  const passwordOk = await verifyPassword(input.password, account?.passwordHash ?? decoyHash());
  if (!account || !passwordOk) throw new AccountError('InvalidPassword', 'Invalid did or password');
  assertAllowed(accountState(account), 'deleteAccount');
  deps.tokens.verify(input.did, 'delete_account', input.token);
  await deleteAccount(deps, input.did);
}
