import { adminUpdatePassword } from '../../../../accounts/admin-accounts.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.updateAccountPassword',
  auth: 'admin',
  maxBodyBytes: 4096,
  errors: ['NotFound'],
  async handler({ ctx, input }) {
    const { did, password } = input as { did: string; password: string };
    await adminUpdatePassword({ db: ctx.db, accounts: ctx.accounts, sessions: ctx.sessions }, did, password);
  },
});
