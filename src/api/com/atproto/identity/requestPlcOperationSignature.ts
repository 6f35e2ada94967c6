import { requireAccess } from '../../../../auth/types.ts';
import { emailSendLimits, emailTokens } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';
import { requestPlcSignature } from './plc-operations.ts';

export default defineMethod({
  nsid: 'com.atproto.identity.requestPlcOperationSignature',
  auth: 'accessFull',
  accountAction: 'signIdentity',
  oauth: (permissions) => permissions.assertIdentity({ attr: '*' }),
  rateLimits: emailSendLimits('plc-operation'),
  async handler({ ctx, auth }) {
    await requestPlcSignature({ accounts: ctx.accounts, tokens: emailTokens(ctx), mailer: ctx.mailer }, requireAccess(auth).did);
  },
});
