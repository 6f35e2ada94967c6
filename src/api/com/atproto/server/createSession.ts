import { assertAllowed } from '../../../../accounts/account-policy.ts';
import { accountState, normalizeIdentifier } from '../../../../accounts/account-store.ts';
import { checkSignInFactor } from '../../../../accounts/email-flows.ts';
import type { AppContext } from '../../../../context.ts';
import type { RateLimitInfo } from '../../../../xrpc/index.ts';
import { emailFlowDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';
import { sessionView } from './session-view.ts';

const MINUTE = 60_000;

/**
 * Per-account login limits count by what the login's lookup resolves: the account's DID, however
 * the identifier was spelled (handle, email or DID; case, spaces, a leading `@`). An identifier
 * that names no account counts by its normalised form, so a limited account and an unknown one
 * answer alike.
 */
const loginKey = ({ ctx, input }: RateLimitInfo<AppContext>) => {
  const identifier = String((input as { identifier?: unknown }).identifier ?? '');
  return ctx.accounts.didByIdentifier(identifier) ?? `unknown:${normalizeIdentifier(identifier)}`;
};

export default defineMethod({
  nsid: 'com.atproto.server.createSession',
  auth: 'none',
  maxBodyBytes: 16 * 1024,
  errors: ['AuthenticationRequired'],
  // The official PDS's limits: 30 logins per 5 minutes and 300 per day for one identifier.
  rateLimits: [
    { name: 'login-ip', points: 100, windowMs: 5 * MINUTE },
    { name: 'login-id-5m', points: 30, windowMs: 5 * MINUTE, key: loginKey },
    { name: 'login-id-day', points: 300, windowMs: 24 * 60 * MINUTE, key: loginKey },
  ],
  async handler({ ctx, input }) {
    const { identifier, password, allowTakendown, authFactorToken } = input as {
      identifier: string;
      password: string;
      allowTakendown?: boolean;
      authFactorToken?: string;
    };
    const { account, appPassword } = await ctx.sessions.login(identifier, password);
    // `allowTakendown` asks for a session only to take the account elsewhere; never with an app password.
    assertAllowed(accountState(account), allowTakendown && !appPassword ? 'signInToLeave' : 'signIn');
    if (!appPassword) await checkSignInFactor(emailFlowDeps(ctx), account, authFactorToken);
    const pair = ctx.sessions.issue(account.did, appPassword);
    return { ...pair, ...sessionView(ctx, account, true) };
  },
});
