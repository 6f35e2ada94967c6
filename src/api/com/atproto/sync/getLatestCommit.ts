import { defineMethod } from '../../../define.ts';
import { resolveSyncRepo } from './sync-access.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.getLatestCommit',
  auth: 'optionalAccess',
  // Public reads; an OAuth session may read its own deactivated repo like any session.
  oauth: 'any',
  handler({ ctx, auth, params }) {
    const did = resolveSyncRepo(ctx, (params as { did: string }).did, auth);
    const root = ctx.repo.root(did);
    return { cid: root.cid, rev: root.rev };
  },
});
