import { AccountError } from '../../../../accounts/errors.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';
import { sessionView } from './session-view.ts';

export default defineMethod({
  nsid: 'com.atproto.server.getSession',
  auth: 'access',
  accountAction: 'readOwnState',
  handler({ ctx, auth }) {
    const { did, privileged } = requireAccess(auth);
    const account = ctx.accounts.byDid(did);
    if (!account) throw new AccountError('AccountNotFound', 'Account not found');
    return sessionView(ctx, account, privileged);
  },
});
