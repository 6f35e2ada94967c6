import { requireAccess } from '../../../../auth/types.ts';
import { codeCheckDidLimit, emailTokens } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';
import { signPlcOperationFor, type SignPlcInput } from './plc-operations.ts';

export default defineMethod({
  nsid: 'com.atproto.identity.signPlcOperation',
  auth: 'accessFull',
  accountAction: 'signIdentity',
  oauth: (permissions) => permissions.assertIdentity({ attr: '*' }),
  maxBodyBytes: 64 * 1024,
  // Each call checks an emailed code: limited per account like every other code check.
  rateLimits: [codeCheckDidLimit],
  async handler({ ctx, auth, input }) {
    const deps = { plc: ctx.plc, rotationKey: ctx.rotationKey, tokens: emailTokens(ctx) };
    const operation = await signPlcOperationFor(deps, requireAccess(auth).did, input as SignPlcInput);
    return { operation };
  },
});
