import { requestAccountDelete } from '../../../../accounts/email-flows.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { emailFlowDeps, emailSendLimits } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.requestAccountDelete',
  auth: 'accessFull',
  accountAction: 'manageAccount',
  oauth: 'never',
  errors: ['AccountNotFound'],
  rateLimits: emailSendLimits('account-delete'),
  async handler({ ctx, auth }) {
    await requestAccountDelete(emailFlowDeps(ctx), requireAccess(auth).did);
  },
});
