import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';
import { IdentityFlowError } from './identity-flow-errors.ts';
import { recommendedCredentials } from './plc-operations.ts';

export default defineMethod({
  nsid: 'com.atproto.identity.getRecommendedDidCredentials',
  // Any session, deactivated accounts included: a migrating account is deactivated here until
  // its DID document names this server.
  auth: 'access',
  accountAction: 'readOwnState',
  oauth: 'any',
  handler({ ctx, auth }) {
    const account = ctx.accounts.byDid(requireAccess(auth).did);
    if (account === undefined) throw new IdentityFlowError('InvalidRequest', 'Account not found');
    return recommendedCredentials({ rotationKeyDid: ctx.rotationKey.did(), publicUrl: ctx.config.service.publicUrl }, account);
  },
});
