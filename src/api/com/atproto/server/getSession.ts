import { AccountError } from '../../../../accounts/errors.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';
import { sessionView } from './session-view.ts';

export default defineMethod({
  nsid: 'com.atproto.server.getSession',
  auth: 'access',
  accountAction: 'readOwnState',
  oauth: 'any',
  async handler({ ctx, auth }) {
    const { did, privileged, oauth } = requireAccess(auth);
    const account = ctx.accounts.byDid(did);
    if (!account) throw new AccountError('AccountNotFound', 'Account not found');
    // An OAuth app sees the email only with `account:email` (or `transition:email`).
    const showEmail = oauth ? oauth.permissions.allowsAccount({ attr: 'email', action: 'read' }) : privileged;
    return await sessionView(ctx, account, showEmail);
  },
});
