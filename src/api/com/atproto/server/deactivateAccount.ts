import { deactivateAccount } from '../../../../accounts/account-state.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { accountStateDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.deactivateAccount',
  auth: 'accessFull',
  accountAction: 'deactivate',
  oauth: (permissions) => permissions.assertAccount({ attr: 'status', action: 'manage' }),
  maxBodyBytes: 4096,
  errors: ['AccountNotFound'],
  async handler({ ctx, auth, input }) {
    const { deleteAfter } = (input ?? {}) as { deleteAfter?: string };
    await deactivateAccount(accountStateDeps(ctx), requireAccess(auth).did, deleteAfter);
  },
});
