import { accountStatus } from '../../../../accounts/account-store.ts';
import { serviceDomainOf } from '../../../../accounts/handle-policy.ts';
import { defineMethod } from '../../../define.ts';
import { IdentityFlowError } from './identity-flow-errors.ts';

export default defineMethod({
  nsid: 'com.atproto.identity.resolveHandle',
  auth: 'none',
  async handler({ ctx, params }) {
    const handle = (params as { handle: string }).handle.toLowerCase();
    // Our own accounts first: answered from the database, no network.
    const account = ctx.accounts.byHandle(handle);
    if (account !== undefined && accountStatus(account) === 'active') return { did: account.did };
    // Under our own domains we are the authority: not in the database means it does not exist.
    if (serviceDomainOf(handle, ctx.config.service.handleDomains) === undefined) {
      const did = await ctx.identity.handles.resolve(handle);
      if (did !== undefined) return { did };
    }
    throw new IdentityFlowError('HandleNotFound', 'Unable to resolve handle');
  },
});
