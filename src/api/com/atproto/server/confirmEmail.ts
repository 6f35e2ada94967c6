import { confirmEmail } from '../../../../accounts/email-flows.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { codeCheckDidLimit, codeCheckIpLimit, emailFlowDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.confirmEmail',
  auth: 'access',
  accountAction: 'manageAccount',
  oauth: (permissions) => permissions.assertAccount({ attr: 'email', action: 'manage' }),
  maxBodyBytes: 4096,
  rateLimits: [codeCheckIpLimit, codeCheckDidLimit],
  handler({ ctx, auth, input }) {
    confirmEmail(emailFlowDeps(ctx), requireAccess(auth).did, input as { email: string; token: string });
  },
});
