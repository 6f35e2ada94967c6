import { requireAccount } from '../../../../accounts/admin-accounts.ts';
import { defineMethod } from '../../../define.ts';

/** New codes for the account are created disabled; codes it already has keep working (as the Lexicon says). */
export default defineMethod({
  nsid: 'com.atproto.admin.disableAccountInvites',
  auth: 'admin',
  maxBodyBytes: 4096,
  errors: ['NotFound'],
  handler({ ctx, input }) {
    const { account } = input as { account: string; note?: string };
    requireAccount(ctx.accounts, account);
    ctx.accounts.setInvitesDisabled(account, true);
  },
});
