import { updateEmail, type UpdateEmailInput } from '../../../../accounts/email-flows.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { codeCheckDidLimit, codeCheckIpLimit, emailFlowDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.updateEmail',
  auth: 'accessFull',
  accountAction: 'manageAccount',
  oauth: (permissions) => permissions.assertAccount({ attr: 'email', action: 'manage' }),
  maxBodyBytes: 4096,
  errors: ['InvalidEmail', 'AccountNotFound'],
  rateLimits: [codeCheckIpLimit, codeCheckDidLimit],
  handler({ ctx, auth, input }) {
    updateEmail(emailFlowDeps(ctx), requireAccess(auth).did, input as UpdateEmailInput);
  },
});
