import { adminAccountView, requireAccount } from '../../../../accounts/admin-accounts.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.getAccountInfo',
  auth: 'admin',
  errors: ['NotFound'],
  handler({ ctx, params }) {
    const { did } = params as { did: string };
    return adminAccountView(ctx.invites, requireAccount(ctx.accounts, did));
  },
});
