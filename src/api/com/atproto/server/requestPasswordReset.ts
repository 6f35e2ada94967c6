import { requestPasswordReset } from '../../../../accounts/email-flows.ts';
import { emailFlowDeps, passwordResetLimits } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.requestPasswordReset',
  auth: 'none',
  maxBodyBytes: 4096,
  rateLimits: passwordResetLimits,
  handler({ ctx, input }) {
    const { email } = input as { email: string };
    // The answer does not wait for the mail: a reply that took as long as an SMTP exchange
    // only for addresses with an account would tell who has one. Failures go to the log.
    const { sending } = requestPasswordReset(emailFlowDeps(ctx), email);
    sending.catch((err: unknown) => ctx.log.warn({ err }, 'password reset email could not be sent'));
  },
});
