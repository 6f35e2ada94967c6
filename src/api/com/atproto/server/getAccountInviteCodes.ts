import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';

/**
 * The caller's invite codes, disabled ones left out (as the official PDS does). This server
 * grants no "earned" codes over time, so `createAvailable` has nothing to create.
 */
export default defineMethod({
  nsid: 'com.atproto.server.getAccountInviteCodes',
  auth: 'accessFull',
  accountAction: 'manageAccount',
  oauth: 'never',
  handler({ ctx, auth, params }) {
    const { includeUsed } = params as { includeUsed?: boolean };
    const codes = ctx.invites.forAccount(requireAccess(auth).did, includeUsed ?? true).filter((code) => !code.disabled);
    return { codes };
  },
});
