import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.createInviteCode',
  auth: 'admin',
  maxBodyBytes: 4096,
  handler({ ctx, input }) {
    const { useCount, forAccount } = input as { useCount: number; forAccount?: string };
    const [created] = ctx.invites.create({ forAccounts: [forAccount ?? 'admin'], useCount, codeCount: 1, createdBy: 'admin' });
    return { code: created.codes[0] };
  },
});
