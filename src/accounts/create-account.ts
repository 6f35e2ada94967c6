import { hashPassword } from '../auth/password.ts';
import type { Config } from '../config.ts';
import { generateKeypair, type Keypair } from '../crypto/index.ts';
import type { Database } from '../db/index.ts';
import type { RepoService } from '../repo/repo-service.ts';
import { encodeSigningKey } from '../repo/signing-keys.ts';
import type { SequencerLog } from '../sync/sequencer-log.ts';
import { accountEvent } from './account-state.ts';
import type { AccountStore } from './account-store.ts';
import { AccountError } from './errors.ts';
import { checkEmail, checkHandle, checkPassword } from './handle-policy.ts';
import type { Invites } from './invites.ts';

/** Creates the DID of a new account (a did:plc genesis operation submitted to the directory). */
export interface DidCreator {
  createDid(input: { signingKeyDid: string; handle: string; pdsUrl: string }): Promise<string>;
}

export interface CreateAccountInput {
  handle: string;
  email?: string;
  password?: string;
  inviteCode?: string;
  did?: string;
}

export interface CreateAccountOptions {
  /**
   * Create it arriving by migration: deactivated until it activates, allowed meanwhile to import
   * its repo, blobs and preferences (accounts/account-policy.ts). Its `#account` event says
   * `deactivated`.
   */
  arriving?: boolean;
}

export interface CreateAccountDeps {
  config: Config;
  db: Database;
  accounts: AccountStore;
  invites: Invites;
  repo: RepoService;
  sequencer: SequencerLog;
  didCreator: DidCreator;
}

/**
 * Creates an account: checks everything that can be checked first, creates the DID at the PLC
 * directory, then stores the account, its genesis commit and its `#identity`/`#account` events
 * in one transaction. If anything fails before that transaction commits, no account exists.
 */
export async function createAccount(
  deps: CreateAccountDeps,
  input: CreateAccountInput,
  options: CreateAccountOptions = {},
): Promise<{ did: string; handle: string; signingKeyDid: string }> {
  const { config, accounts, invites } = deps;
  if (input.did !== undefined) {
    throw new AccountError('InvalidInput', 'Creating an account for an existing DID (migration) is not supported yet');
  }
  const handle = checkHandle(input.handle, config.service.handleDomains, { allowExternal: false });
  if (input.email === undefined) throw new AccountError('InvalidEmail', 'Email is required');
  const email = checkEmail(input.email);
  if (input.password === undefined) throw new AccountError('InvalidPassword', 'Password is required');
  checkPassword(input.password);
  if (config.service.inviteRequired) {
    if (!input.inviteCode) throw new AccountError('InvalidInviteCode', 'No invite code provided');
    invites.ensureAvailable(input.inviteCode);
  }
  if (accounts.byHandle(handle)) throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
  if (accounts.byEmail(email)) throw new AccountError('EmailTaken', `Email already taken: ${email}`);

  const keypair: Keypair = await generateKeypair(config.service.signingKeyAlg);
  const passwordHash = await hashPassword(input.password);
  const signingKeyDid = keypair.did();
  const did = await deps.didCreator.createDid({ signingKeyDid, handle, pdsUrl: config.service.publicUrl });
  const createdAt = new Date().toISOString();

  try {
    await deps.repo.createRepo(did, keypair, () => {
      // Checked again inside the transaction: another request may have taken the handle meanwhile.
      if (accounts.byHandle(handle)) throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
      if (accounts.byEmail(email)) throw new AccountError('EmailTaken', `Email already taken: ${email}`);
      const arriving = options.arriving === true;
      accounts.insert({ did, handle, email, passwordHash, signingKey: encodeSigningKey(keypair), signingKeyDid, createdAt, arriving });
      if (config.service.inviteRequired && input.inviteCode) invites.use(input.inviteCode, did);
      deps.sequencer.append(did, 'identity', { did, handle }, createdAt);
      deps.sequencer.append(did, 'account', accountEvent(accounts.byDid(did)!), createdAt);
    });
  } catch (err) {
    if (err instanceof Error && /UNIQUE constraint failed: account\.handle/.test(err.message)) {
      throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
    }
    throw err;
  }
  return { did, handle, signingKeyDid };
}
