import { AccountFlowError } from '../../../../accounts/flow-errors.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.disableInviteCodes',
  auth: 'admin',
  maxBodyBytes: 256 * 1024,
  handler({ ctx, input }) {
    const { codes, accounts } = (input ?? {}) as { codes?: string[]; accounts?: string[] };
    // The official PDS refuses this too: one call would switch off every code the admin handed out.
    if (accounts?.includes('admin')) throw new AccountFlowError('InvalidRequest', 'Cannot disable admin invite codes');
    ctx.invites.disable({ codes, accounts });
  },
});
