import { assertAllowed } from '../../../../accounts/account-policy.ts';
import { isPrivilegedMethod } from '../../../../auth/privileged-methods.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { createServiceJwt } from '../../../../auth/service-jwt.ts';
import { defineMethod } from '../../../define.ts';
import { IdentityFlowError } from '../identity/identity-flow-errors.ts';

/** Creating an account elsewhere with this identity (migration) moves the account: full sessions only. */
const MIGRATION_METHOD = 'com.atproto.server.createAccount';

/**
 * Methods no service token is minted for at all: they manage the account's credentials, email
 * and identity, and must only be called by the account itself on its own PDS.
 */
export const PROTECTED_SERVICE_METHODS: ReadonlySet<string> = new Set([
  'com.atproto.admin.sendEmail',
  'com.atproto.identity.requestPlcOperationSignature',
  'com.atproto.identity.signPlcOperation',
  'com.atproto.identity.updateHandle',
  'com.atproto.server.activateAccount',
  'com.atproto.server.confirmEmail',
  'com.atproto.server.createAppPassword',
  'com.atproto.server.deactivateAccount',
  'com.atproto.server.getAccountInviteCodes',
  'com.atproto.server.getSession',
  'com.atproto.server.listAppPasswords',
  'com.atproto.server.requestAccountDelete',
  'com.atproto.server.requestEmailConfirmation',
  'com.atproto.server.requestEmailUpdate',
  'com.atproto.server.revokeAppPassword',
  'com.atproto.server.updateEmail',
]);

export default defineMethod({
  nsid: 'com.atproto.server.getServiceAuth',
  auth: 'access',
  accountAction: 'serviceAuthToLeave',
  oauth: (permissions, { params }) => {
    const { aud, lxm } = params as { aud: string; lxm?: string };
    permissions.assertRpc({ aud: aud as `did:${string}#${string}`, lxm: (lxm ?? '*') as `${string}.${string}.${string}` });
  },
  async handler({ ctx, auth, params }) {
    const caller = requireAccess(auth);
    const { aud, exp, lxm } = params as { aud: string; exp?: number; lxm?: string };
    // The method's accountAction let a leaving (taken-down) account through for this alone.
    if (lxm !== MIGRATION_METHOD) assertAllowed(caller.state, 'serviceAuth');
    if (lxm !== undefined) {
      if (PROTECTED_SERVICE_METHODS.has(lxm)) {
        throw new IdentityFlowError('InvalidRequest', `cannot request a service auth token for the following protected method: ${lxm}`);
      }
      // A privileged app password reaches chat and nothing more; migrating the account needs the account password.
      // OAuth grants reach chat when the method's `oauth` rule found the rpc: scope (transition:chat.bsky or narrower).
      const allowed = lxm === MIGRATION_METHOD ? caller.full : isPrivilegedMethod(lxm) ? caller.privileged || caller.oauth !== undefined : true;
      if (!allowed) {
        throw new IdentityFlowError('InvalidRequest', `insufficient access to request a service auth token for the following method: ${lxm}`);
      }
    }
    const keypair = ctx.signingKeys.get(caller.did);
    if (keypair === undefined) throw new IdentityFlowError('InvalidRequest', 'This account has no signing key on this server');
    // Limits on `exp` (past, over an hour, over a minute without `lxm`) are createServiceJwt's.
    const token = await createServiceJwt({ iss: caller.did, aud, lxm, exp, keypair });
    return { token };
  },
});
