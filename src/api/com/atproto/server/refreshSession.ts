import { assertAllowed } from '../../../../accounts/account-policy.ts';
import { accountState } from '../../../../accounts/account-store.ts';
import { AccountError } from '../../../../accounts/errors.ts';
import { defineMethod } from '../../../define.ts';
import { sessionView } from './session-view.ts';

export default defineMethod({
  nsid: 'com.atproto.server.refreshSession',
  auth: 'refresh',
  async handler({ ctx, auth }) {
    if (auth.type !== 'refresh') throw new Error('refresh auth expected');
    const account = ctx.accounts.byDid(auth.did);
    if (!account) throw new AccountError('InvalidToken', 'Account of this token does not exist');
    // A taken-down account's sessions all ended with the takedown: one that exists now was opened to leave.
    assertAllowed(accountState(account), 'signInToLeave');
    const { pair } = ctx.sessions.refresh(auth.token);
    return { ...pair, ...(await sessionView(ctx, account, false)) };
  },
});
