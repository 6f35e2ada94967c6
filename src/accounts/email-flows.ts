import { hashPassword } from '../auth/password.ts';
import type { Database } from '../db/index.ts';
import type { Mailer } from '../email/mailer.ts';
import { renderConfirmEmail, renderDeleteAccount, renderResetPassword, renderSignIn, renderUpdateEmail } from '../email/templates.ts';
import type { Account, AccountStore } from './account-store.ts';
import type { EmailTokens } from './email-tokens.ts';
import { AccountError } from './errors.ts';
import { AccountFlowError } from './flow-errors.ts';
import { checkEmail, checkPassword } from './handle-policy.ts';
import type { Sessions } from './sessions.ts';

export interface EmailFlowDeps {
  db: Database;
  accounts: AccountStore;
  tokens: EmailTokens;
  mailer: Mailer;
  sessions: Pick<Sessions, 'revokeAll'>;
  now?: () => Date;
}

function accountWithEmail(deps: EmailFlowDeps, did: string): Account & { email: string } {
  const account = deps.accounts.byDid(did);
  if (!account) throw new AccountError('AccountNotFound', 'Account not found');
  if (!account.email) throw new AccountFlowError('InvalidRequest', 'Account does not have an email address');
  return account as Account & { email: string };
}

/** Mails a code that confirms the account's current address. */
export async function requestEmailConfirmation(deps: EmailFlowDeps, did: string): Promise<void> {
  const account = accountWithEmail(deps, did);
  const token = deps.tokens.create(did, 'confirm_email');
  await deps.mailer.send({ to: account.email, ...renderConfirmEmail({ token }) });
}

/** Marks the address confirmed. The code must be the one mailed to that same address. */
export function confirmEmail(deps: EmailFlowDeps, did: string, input: { email: string; token: string }): void {
  const account = accountWithEmail(deps, did);
  if (input.email.trim().toLowerCase() !== account.email) throw new AccountError('InvalidEmail', 'Invalid email');
  deps.db.transaction(() => {
    deps.tokens.consume(did, 'confirm_email', input.token);
    deps.accounts.confirmEmail(did, (deps.now?.() ?? new Date()).toISOString());
  });
}

/**
 * Starts an email change. Once an address is confirmed, only its owner may move the account
 * off it: a code goes to the current address and `updateEmail` requires it.
 */
export async function requestEmailUpdate(deps: EmailFlowDeps, did: string): Promise<{ tokenRequired: boolean }> {
  const account = accountWithEmail(deps, did);
  const tokenRequired = account.emailConfirmedAt !== null;
  if (tokenRequired) {
    const token = deps.tokens.create(did, 'update_email');
    await deps.mailer.send({ to: account.email, ...renderUpdateEmail({ token }) });
  }
  return { tokenRequired };
}

export interface UpdateEmailInput {
  email: string;
  token?: string;
  emailAuthFactor?: boolean;
}

/**
 * Changes the address (it is then unconfirmed) and turns email as a sign-in factor on or off;
 * needs the emailed code when the address was confirmed. The factor can only be turned on for a
 * confirmed address kept as it is: codes must go where the owner is known to read. Changing the
 * address keeps the factor as it was (the change itself took a code from the old address).
 */
export function updateEmail(deps: EmailFlowDeps, did: string, input: UpdateEmailInput): void {
  const email = checkEmail(input.email);
  const account = deps.accounts.byDid(did);
  if (!account) throw new AccountError('AccountNotFound', 'Account not found');
  const tokenRequired = account.emailConfirmedAt !== null;
  if (input.emailAuthFactor === true && (!tokenRequired || email !== account.email)) {
    throw new AccountFlowError('InvalidRequest', 'Email as a sign-in factor needs a confirmed address: confirm it first, then turn the factor on without changing it');
  }
  if (tokenRequired && !input.token) throw new AccountFlowError('TokenRequired', 'Confirmation token required');
  deps.db.transaction(() => {
    if (tokenRequired) deps.tokens.consume(did, 'update_email', input.token!);
    if (input.emailAuthFactor !== undefined) deps.accounts.setEmailAuthFactor(did, input.emailAuthFactor);
    if (email === account.email) return;
    const holder = deps.accounts.byEmail(email);
    if (holder) throw new AccountError('InvalidInput', 'This email address is already in use, please use a different email');
    deps.accounts.updateEmail(did, email);
    // A confirmation code sent to the old address must not confirm the new one.
    deps.tokens.delete(did, 'confirm_email');
  });
}

/**
 * The second step of a sign-in with the account password when the owner turned email on as a
 * factor (app passwords skip it, as in the official PDS): without a code, one is mailed and the
 * sign-in answers `AuthFactorTokenRequired`; with one, it must be the live code, and is used up.
 */
export async function checkSignInFactor(deps: EmailFlowDeps, account: Account, code: string | undefined): Promise<void> {
  if (!account.emailAuthFactor || !account.email) return;
  if (!code) {
    const token = deps.tokens.create(account.did, 'sign_in');
    await deps.mailer.send({ to: account.email, ...renderSignIn({ token }) });
    throw new AccountError('AuthFactorTokenRequired', 'A sign-in code has been sent to your email address');
  }
  deps.tokens.consume(account.did, 'sign_in', code);
}

/**
 * Mails a reset code when an account has this address, and does nothing otherwise: the answer
 * is the same either way, so the method does not reveal which addresses have accounts. The
 * code is stored before this returns; the promise settles when the mail is handed over.
 */
export function requestPasswordReset(deps: EmailFlowDeps, email: string): { sending: Promise<void> } {
  const account = deps.accounts.byEmail(email.trim().toLowerCase());
  if (!account?.email) return { sending: Promise.resolve() };
  const token = deps.tokens.create(account.did, 'reset_password');
  return { sending: deps.mailer.send({ to: account.email, ...renderResetPassword({ token, handle: account.handle }) }) };
}

/** Sets a new password with a reset code, and ends every session of the account. */
export async function resetPassword(deps: EmailFlowDeps, input: { token: string; password: string }): Promise<string> {
  try {
    checkPassword(input.password);
  } catch (err) {
    // A bad new password is a bad request, not a failed login.
    if (err instanceof AccountError) throw new AccountFlowError('InvalidRequest', err.message);
    throw err;
  }
  // Checked before hashing, so wrong codes cost no scrypt work.
  const did = deps.tokens.verifyAny('reset_password', input.token);
  const passwordHash = await hashPassword(input.password);
  deps.db.transaction(() => {
    // Again inside the transaction: of two requests racing with one code, only one wins.
    if (deps.tokens.verifyAny('reset_password', input.token) !== did) throw new AccountFlowError('InvalidToken', 'Token is invalid');
    deps.tokens.delete(did, 'reset_password');
    deps.accounts.updatePassword(did, passwordHash);
    deps.sessions.revokeAll(did);
  });
  return did;
}

/** Mails the code `deleteAccount` requires. */
export async function requestAccountDelete(deps: EmailFlowDeps, did: string): Promise<void> {
  const account = accountWithEmail(deps, did);
  const token = deps.tokens.create(did, 'delete_account');
  await deps.mailer.send({ to: account.email, ...renderDeleteAccount({ token }) });
}
