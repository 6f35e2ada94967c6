import { AccountFlowError } from '../../../../accounts/flow-errors.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.getInviteCodes',
  auth: 'admin',
  handler({ ctx, params }) {
    const { sort = 'recent', limit = 100, cursor } = params as { sort?: string; limit?: number; cursor?: string };
    if (sort !== 'recent' && sort !== 'usage') throw new AccountFlowError('InvalidRequest', `Unknown sort: ${sort}`);
    const page = ctx.invites.list({ sort, limit, cursor });
    return { codes: page.codes, ...(page.cursor ? { cursor: page.cursor } : {}) };
  },
});
