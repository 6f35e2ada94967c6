import { assertAllowed } from '../../../../accounts/account-policy.ts';
import { accountState } from '../../../../accounts/account-store.ts';
import { checkSignInFactor } from '../../../../accounts/email-flows.ts';
import { emailFlowDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';
import { LOGIN_RATE_LIMITS } from '../../../login-limits.ts';
import { sessionView } from './session-view.ts';

export default defineMethod({
  nsid: 'com.atproto.server.createSession',
  auth: 'none',
  maxBodyBytes: 16 * 1024,
  errors: ['AuthenticationRequired'],
  rateLimits: [...LOGIN_RATE_LIMITS],
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
    return { ...pair, ...(await sessionView(ctx, account, true)) };
  },
});
