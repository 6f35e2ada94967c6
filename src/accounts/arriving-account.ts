// createAccount for a DID that already exists (account migration, step 2): the caller proves
// control of the DID with a service token its current PDS signed for this server, and gets an
// account that is `arriving` (account-policy.ts): it can sign in and fill itself in (repo, blobs,
// preferences, identity) and goes live only when it activates. Nothing is announced on the
// firehose: the DID is still hosted elsewhere until its document names this server.
import { hashPassword, verifyPassword } from '../auth/password.ts';
import { generateKeypair, type Keypair } from '../crypto/index.ts';
import { hasReservedTld } from '../identity/reserved-tlds.ts';
import { encodeSigningKey } from '../repo/signing-keys.ts';
import { isValidDid } from '../syntax/index.ts';
import { accountState } from './account-store.ts';
import type { CreateAccountDeps, CreateAccountInput } from './create-account.ts';
import { AccountError } from './errors.ts';
import { checkEmail, checkHandle, checkPassword, serviceDomainOf } from './handle-policy.ts';
import type { ReservedSigningKeys } from './reserved-keys.ts';

export interface ArrivingAccountDeps extends Omit<CreateAccountDeps, 'didCreator'> {
  /** A key reserved for the DID (`reserveSigningKey`) becomes the account's signing key. */
  reservedKeys: Pick<ReservedSigningKeys, 'forDid' | 'delete'>;
  /** The DID a handle outside this server's domains resolves to (DNS or its well-known), freshly. */
  resolveHandle: (handle: string) => Promise<string | undefined>;
}

export interface ArrivingAccount {
  did: string;
  handle: string;
  signingKeyDid: string;
  /** The account was already here, arriving, and this is the same migration asking again. */
  resumed: boolean;
}

/**
 * Creates (or, for a retry of the same migration, finds again) the arriving account of
 * `input.did`. `requester` is the DID a verified service token was issued by, if any. Throws
 * AccountError: AuthenticationRequired (no token for this DID), AlreadyExists, and the usual
 * handle, email, password and invite refusals.
 */
export async function createArrivingAccount(deps: ArrivingAccountDeps, input: CreateAccountInput & { did: string }, requester: string | undefined): Promise<ArrivingAccount> {
  const { config, accounts, invites } = deps;
  const did = input.did;
  if (!isValidDid(did) || !(did.startsWith('did:plc:') || did.startsWith('did:web:'))) {
    throw new AccountError('InvalidInput', `Not a DID this server can host (did:plc or did:web): ${did}`);
  }
  if (requester !== did) {
    throw new AccountError('AuthenticationRequired', `Missing auth to create account with did: ${did} (a service token it issued for createAccount)`);
  }
  if (input.password === undefined) throw new AccountError('InvalidPassword', 'Password is required');
  checkPassword(input.password);

  const existing = accounts.byDid(did);
  if (existing) {
    // The same migration asking again (its answer was lost, or a tool resumes): same password.
    if (accountState(existing) === 'arriving' && (await verifyPassword(input.password, existing.passwordHash))) {
      return { did, handle: existing.handle, signingKeyDid: existing.signingKeyDid, resumed: true };
    }
    throw new AccountError('AlreadyExists', `An account already exists here for ${did}`);
  }

  const handle = checkHandle(input.handle, config.service.handleDomains, { allowExternal: true });
  if (serviceDomainOf(handle, config.service.handleDomains) === undefined) {
    // A handle of its own (a domain the user controls) must be real and already point at the DID.
    if (hasReservedTld(handle, { allowTest: config.service.devMode })) throw new AccountError('InvalidHandle', 'Handle TLD is invalid or disallowed');
    if ((await deps.resolveHandle(handle)) !== did) throw new AccountError('InvalidHandle', `External handle ${handle} does not resolve to ${did}`);
  }
  if (input.email === undefined) throw new AccountError('InvalidEmail', 'Email is required');
  const email = checkEmail(input.email);
  if (config.service.inviteRequired) {
    if (!input.inviteCode) throw new AccountError('InvalidInviteCode', 'No invite code provided');
    invites.ensureAvailable(input.inviteCode);
  }
  if (accounts.byHandle(handle)) throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
  if (accounts.byEmail(email)) throw new AccountError('EmailTaken', `Email already taken: ${email}`);

  // The key the DID document will name: one reserved for this DID, else a new one.
  const reserved = deps.reservedKeys.forDid(did);
  const keypair: Keypair = reserved?.keypair ?? (await generateKeypair(config.service.signingKeyAlg));
  const signingKeyDid = keypair.did();
  const passwordHash = await hashPassword(input.password);
  const createdAt = new Date().toISOString();
  try {
    await deps.repo.createRepo(
      did,
      keypair,
      () => {
        if (accounts.byDid(did)) throw new AccountError('AlreadyExists', `An account already exists here for ${did}`);
        if (accounts.byHandle(handle)) throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
        if (accounts.byEmail(email)) throw new AccountError('EmailTaken', `Email already taken: ${email}`);
        accounts.insert({ did, handle, email, passwordHash, signingKey: encodeSigningKey(keypair), signingKeyDid, createdAt, arriving: true });
        if (config.service.inviteRequired && input.inviteCode) invites.use(input.inviteCode, did);
        if (reserved) deps.reservedKeys.delete(reserved.publicKeyDid);
      },
      { announce: false },
    );
  } catch (err) {
    if (err instanceof Error && /UNIQUE constraint failed: account\.handle/.test(err.message)) {
      throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
    }
    throw err;
  }
  return { did, handle, signingKeyDid, resumed: false };
}
