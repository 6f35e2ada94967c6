import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.listAppPasswords',
  auth: 'accessFull',
  accountAction: 'manageAccount',
  oauth: 'never',
  handler({ ctx, auth }) {
    const { did } = requireAccess(auth);
    return { passwords: ctx.appPasswords.list(did) };
  },
});
