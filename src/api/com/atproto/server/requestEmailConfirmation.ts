import { requestEmailConfirmation } from '../../../../accounts/email-flows.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { emailFlowDeps, emailSendLimits } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.requestEmailConfirmation',
  auth: 'access',
  accountAction: 'manageAccount',
  oauth: (permissions) => permissions.assertAccount({ attr: 'email', action: 'manage' }),
  errors: ['AccountNotFound'],
  rateLimits: emailSendLimits('email-confirmation'),
  async handler({ ctx, auth }) {
    await requestEmailConfirmation(emailFlowDeps(ctx), requireAccess(auth).did);
  },
});
