import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.revokeAppPassword',
  auth: 'accessFull',
  accountAction: 'manageAccount',
  oauth: 'never',
  maxBodyBytes: 4096,
  handler({ ctx, auth, input }) {
    const { did } = requireAccess(auth);
    ctx.appPasswords.revoke(did, (input as { name: string }).name);
  },
});
