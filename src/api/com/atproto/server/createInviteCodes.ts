import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.createInviteCodes',
  auth: 'admin',
  maxBodyBytes: 256 * 1024,
  handler({ ctx, input }) {
    const body = input as { codeCount?: number; useCount: number; forAccounts?: string[] };
    const forAccounts = body.forAccounts ?? ['admin'];
    const codeCount = body.codeCount ?? 1;
    return { codes: ctx.invites.create({ forAccounts, useCount: body.useCount, codeCount, createdBy: 'admin' }) };
  },
});
