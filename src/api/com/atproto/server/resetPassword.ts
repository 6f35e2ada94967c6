import { resetPassword } from '../../../../accounts/email-flows.ts';
import { codeCheckIpLimit, emailFlowDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.resetPassword',
  auth: 'none',
  maxBodyBytes: 4096,
  rateLimits: [codeCheckIpLimit],
  async handler({ ctx, input }) {
    await resetPassword(emailFlowDeps(ctx), input as { token: string; password: string });
  },
});
