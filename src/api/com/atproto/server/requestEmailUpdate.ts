import { requestEmailUpdate } from '../../../../accounts/email-flows.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { emailFlowDeps, emailSendLimits } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.requestEmailUpdate',
  auth: 'accessFull',
  accountAction: 'manageAccount',
  oauth: (permissions) => permissions.assertAccount({ attr: 'email', action: 'manage' }),
  errors: ['AccountNotFound'],
  rateLimits: emailSendLimits('email-update'),
  handler({ ctx, auth }) {
    return requestEmailUpdate(emailFlowDeps(ctx), requireAccess(auth).did);
  },
});
