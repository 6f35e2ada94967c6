import { requireAccount } from '../../../../accounts/admin-accounts.ts';
import { deleteAccount } from '../../../../accounts/delete-account.ts';
import { deleteAccountDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.deleteAccount',
  auth: 'admin',
  maxBodyBytes: 4096,
  errors: ['NotFound', 'AccountNotFound'],
  async handler({ ctx, input }) {
    const { did } = input as { did: string };
    requireAccount(ctx.accounts, did);
    await deleteAccount(deleteAccountDeps(ctx), did);
  },
});
