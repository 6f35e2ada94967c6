import { accountStatus } from '../../../../accounts/account-store.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.listRepos',
  auth: 'none',
  handler({ ctx, params }) {
    const { limit, cursor } = params as { limit: number; cursor?: string };
    const accounts = ctx.accounts.list(limit + 1, cursor);
    const page = accounts.slice(0, limit);
    const repos = page.flatMap((account) => {
      const root = ctx.repo.rootOrUndefined(account.did);
      if (!root) return [];
      const status = accountStatus(account);
      return [{ did: account.did, head: root.cid, rev: root.rev, active: status === 'active', ...(status === 'active' ? {} : { status }) }];
    });
    return { repos, ...(accounts.length > limit ? { cursor: page[page.length - 1].did } : {}) };
  },
});
