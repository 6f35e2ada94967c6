import { deleteAccountWithCredentials } from '../../../../accounts/delete-account.ts';
import { deleteAccountDeps, deleteAccountLimits, emailTokens } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.deleteAccount',
  auth: 'none',
  maxBodyBytes: 4096,
  errors: ['AccountNotFound'],
  rateLimits: deleteAccountLimits,
  async handler({ ctx, input }) {
    const body = input as { did: string; password: string; token: string };
    await deleteAccountWithCredentials({ ...deleteAccountDeps(ctx), tokens: emailTokens(ctx) }, body);
  },
});
