import { accountStatus } from '../../../../accounts/account-store.ts';
import { defineMethod } from '../../../define.ts';
import { XrpcError } from '../../../../xrpc/index.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.getRepoStatus',
  auth: 'none',
  handler({ ctx, params }) {
    const { did } = params as { did: string };
    const account = ctx.accounts.byDid(did);
    if (!account) throw new XrpcError(400, 'RepoNotFound', `Could not find repo for DID: ${did}`);
    const status = accountStatus(account);
    const root = ctx.repo.rootOrUndefined(did);
    return { did, active: status === 'active', ...(status === 'active' ? {} : { status }), ...(root && status === 'active' ? { rev: root.rev } : {}) };
  },
});
