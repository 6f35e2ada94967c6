// Accounts as the authorization pages see them, over the account store and the password logins of
// createSession (same rate-limit buckets, same second factor): the one place the pages
// authenticate a person.
import { createHash } from 'node:crypto';
import { accountState, type Account } from '../../accounts/account-store.ts';
import { checkSignInFactor } from '../../accounts/email-flows.ts';
import { AccountError } from '../../accounts/errors.ts';
import { AccountFlowError } from '../../accounts/flow-errors.ts';
import { emailFlowDeps } from '../../api/account-flows.ts';
import { LOGIN_RATE_LIMITS, loginAccountKey } from '../../api/login-limits.ts';
import type { AppContext } from '../../context.ts';
import { clientKeyOf } from '../../net/ip-address.ts';
import { enforceRateLimits, RateLimitExceededError, type RateLimiter } from '../../xrpc/index.ts';
import { SignInError, type AccountDirectory, type FirstFactor } from './pages-context.ts';

export function accountDirectory(ctx: AppContext, limiter: RateLimiter | undefined): AccountDirectory {
  /** Every password or code attempt counts against the account and the client, as createSession's do. */
  const limit = (accountKey: string, ip: string) => {
    if (limiter === undefined) return;
    try {
      enforceRateLimits(limiter, LOGIN_RATE_LIMITS, (spec) => (spec.key ? accountKey : clientKeyOf(ip)), () => {});
    } catch (err) {
      if (err instanceof RateLimitExceededError) throw new SignInError('Too many sign-in attempts. Wait a few minutes and try again.', 429);
      throw err;
    }
  };

  /** Email as a second factor, as createSession asks it: after the password and the state, so a wrong password mails nothing. */
  const secondFactor = async (account: Account, code: string | undefined): Promise<void> => {
    const firstFactor: FirstFactor = { did: account.did, stamp: passwordStamp(account) };
    try {
      await checkSignInFactor(emailFlowDeps(ctx), account, code);
    } catch (err) {
      if (err instanceof AccountError && err.code === 'AuthFactorTokenRequired') {
        throw new SignInError('We sent a sign-in code to your email address. Enter it below.', 401, { notice: true, firstFactor });
      }
      if (err instanceof AccountFlowError && err.code === 'InvalidToken') throw new SignInError('That code is wrong. Check the latest email and try again.', 401, { firstFactor });
      if (err instanceof AccountFlowError && err.code === 'ExpiredToken') {
        throw new SignInError('That code has expired. Enter your password again to get a new one.', 401, { restart: true });
      }
      throw err;
    }
  };

  return {
    view(did) {
      const account = ctx.accounts.byDid(did);
      if (account === undefined || accountState(account) === 'takendown') return undefined;
      return { did: account.did, handle: account.handle };
    },
    state: (did) => ctx.accounts.stateByDid(did),
    resolveHint: (hint) => ctx.accounts.byIdentifier(hint)?.did,
    async signIn(identifier, password, ip, code) {
      limit(loginAccountKey(ctx.accounts, identifier), ip);
      let login;
      try {
        login = await ctx.sessions.login(identifier, password);
      } catch (err) {
        if (err instanceof AccountError && err.code === 'InvalidPassword') throw new SignInError('Wrong handle, email or password.');
        throw err;
      }
      if (login.appPassword !== undefined) throw new SignInError('That is an app password. Sign in to apps here with your account password.');
      checkState(login.account);
      await secondFactor(login.account, code?.trim() || undefined);
      return login.account.did;
    },
    async completeSignIn(first, code, ip) {
      limit(first.did, ip);
      const account = ctx.accounts.byDid(first.did);
      // A password changed since it was checked (a reset, say) voids the step.
      if (account === undefined || passwordStamp(account) !== first.stamp) throw new SignInError('This sign-in has expired. Enter your password again.', 401, { restart: true });
      checkState(account);
      if (code.trim() === '') throw new SignInError('Enter the code from your email.', 400, { firstFactor: first });
      await secondFactor(account, code.trim());
      return account.did;
    },
  };
}

function checkState(account: Account): void {
  const state = accountState(account);
  if (state === 'takendown') throw new SignInError('This account has been taken down.', 403);
  if (state === 'deactivated') throw new SignInError('This account is deactivated. Reactivate it before signing in to apps.', 403);
  if (state === 'arriving') throw new SignInError('This account is still moving here. Activate it before signing in to apps.', 403);
}

/** Names the account's current password hash without revealing it. */
function passwordStamp(account: Account): string {
  return createHash('sha256').update(account.passwordHash).digest('base64url');
}
