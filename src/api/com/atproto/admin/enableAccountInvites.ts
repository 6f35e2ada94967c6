import { requireAccount } from '../../../../accounts/admin-accounts.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.enableAccountInvites',
  auth: 'admin',
  maxBodyBytes: 4096,
  errors: ['NotFound'],
  handler({ ctx, input }) {
    const { account } = input as { account: string; note?: string };
    requireAccount(ctx.accounts, account);
    ctx.accounts.setInvitesDisabled(account, false);
  },
});
