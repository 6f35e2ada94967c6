import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.createAppPassword',
  auth: 'accessFull',
  accountAction: 'manageAccount',
  oauth: 'never',
  maxBodyBytes: 4096,
  async handler({ ctx, auth, input }) {
    const { did } = requireAccess(auth);
    const { name, privileged } = input as { name: string; privileged?: boolean };
    const created = await ctx.appPasswords.create(did, name, privileged ?? false);
    return { name: created.name, password: created.password, createdAt: created.createdAt, privileged: created.privileged };
  },
});
