import { hashPassword } from '../auth/password.ts';
import type { Database } from '../db/index.ts';
import type { PlcClient } from '../identity/plc-client.ts';
import type { PlcSigner } from '../identity/plc-types.ts';
import type { GroupCommitter } from '../repo/group-commit.ts';
import type { Firehose } from '../sync/firehose.ts';
import type { SequencerLog } from '../sync/sequencer-log.ts';
import type { Account, AccountStore } from './account-store.ts';
import type { EmailTokens } from './email-tokens.ts';
import { AccountError } from './errors.ts';
import { AccountFlowError } from './flow-errors.ts';
import { checkEmail, checkHandle, checkPassword } from './handle-policy.ts';
import type { InviteCode, Invites } from './invites.ts';
import type { Sessions } from './sessions.ts';

/** `com.atproto.admin.defs#accountView`. */
export interface AdminAccountView {
  did: string;
  handle: string;
  email?: string;
  indexedAt: string;
  invitedBy?: InviteCode;
  invites: InviteCode[];
  invitesDisabled: boolean;
  emailConfirmedAt?: string;
  deactivatedAt?: string;
}

export function adminAccountView(invites: Invites, account: Account): AdminAccountView {
  const invitedBy = invites.usedBy(account.did);
  return {
    did: account.did,
    handle: account.handle,
    ...(account.email ? { email: account.email } : {}),
    indexedAt: account.createdAt,
    ...(invitedBy ? { invitedBy } : {}),
    invites: invites.forAccount(account.did),
    invitesDisabled: account.invitesDisabled,
    ...(account.emailConfirmedAt ? { emailConfirmedAt: account.emailConfirmedAt } : {}),
    ...(account.deactivatedAt ? { deactivatedAt: account.deactivatedAt } : {}),
  };
}

/** The account an admin named, or `NotFound`. */
export function requireAccount(accounts: AccountStore, did: string): Account {
  const account = accounts.byDid(did);
  if (!account) throw new AccountFlowError('NotFound', 'Account not found');
  return account;
}

export interface AdminHandleDeps {
  accounts: AccountStore;
  handleDomains: readonly string[];
  plc: Pick<PlcClient, 'updateHandle'>;
  rotationKey: PlcSigner;
  committer: GroupCommitter;
  sequencer: SequencerLog;
  firehose: Pick<Firehose, 'notify'>;
}

/**
 * Sets an account's handle as an administrator: any valid handle (a handle outside the
 * server's domains is the admin's word, not checked by resolution), unless another account
 * holds it. The DID document changes first, at the PLC directory, so the server never claims a
 * handle its document does not; then the account row and an `#identity` event, together.
 */
export async function adminUpdateHandle(deps: AdminHandleDeps, did: string, input: string): Promise<string> {
  const account = requireAccount(deps.accounts, did);
  const handle = checkHandle(input, deps.handleDomains, { allowExternal: true });
  const holder = deps.accounts.byHandle(handle);
  if (holder && holder.did !== did) throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
  if (handle !== account.handle && did.startsWith('did:plc:')) {
    try {
      await deps.plc.updateHandle(did, deps.rotationKey, handle);
    } catch (err) {
      throw new AccountFlowError('UpstreamFailure', `The PLC directory did not take the handle change: ${(err as Error).message}`, { cause: err });
    }
  }
  await deps.committer.run(() => {
    const current = deps.accounts.byHandle(handle);
    if (current && current.did !== did) throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
    deps.accounts.updateHandle(did, handle);
    deps.sequencer.append(did, 'identity', { did, handle });
  });
  deps.firehose.notify();
  return handle;
}

/** Sets an account's email as an administrator; the new address starts unconfirmed. */
export function adminUpdateEmail(deps: { db: Database; accounts: AccountStore; tokens: EmailTokens }, account: Account, input: string): void {
  const email = checkEmail(input);
  deps.db.transaction(() => {
    const holder = deps.accounts.byEmail(email);
    if (holder && holder.did !== account.did) throw new AccountError('InvalidInput', 'This email address is already in use');
    if (email === account.email) return;
    deps.accounts.updateEmail(account.did, email);
    deps.tokens.delete(account.did, 'confirm_email');
    deps.tokens.delete(account.did, 'update_email');
  });
}

/** Sets an account's password as an administrator and ends its sessions. */
export async function adminUpdatePassword(
  deps: { db: Database; accounts: AccountStore; sessions: Pick<Sessions, 'revokeAll'> },
  did: string,
  password: string,
): Promise<void> {
  requireAccount(deps.accounts, did);
  try {
    checkPassword(password);
  } catch (err) {
    if (err instanceof AccountError) throw new AccountFlowError('InvalidRequest', err.message);
    throw err;
  }
  const passwordHash = await hashPassword(password);
  deps.db.transaction(() => {
    requireAccount(deps.accounts, did);
    deps.accounts.updatePassword(did, passwordHash);
    deps.sessions.revokeAll(did);
  });
}
