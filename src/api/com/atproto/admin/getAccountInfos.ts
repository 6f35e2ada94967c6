import { adminAccountView } from '../../../../accounts/admin-accounts.ts';
import { defineMethod } from '../../../define.ts';

/** The accounts among `dids` that exist here, in the order asked, each once. */
export default defineMethod({
  nsid: 'com.atproto.admin.getAccountInfos',
  auth: 'admin',
  handler({ ctx, params }) {
    const { dids } = params as { dids: string[] };
    const infos = [];
    for (const did of new Set(dids)) {
      const account = ctx.accounts.byDid(did);
      if (account) infos.push(adminAccountView(ctx.invites, account));
    }
    return { infos };
  },
});
