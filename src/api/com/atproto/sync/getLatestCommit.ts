import { defineMethod } from '../../../define.ts';
import { resolveSyncRepo } from './sync-access.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.getLatestCommit',
  auth: 'none',
  handler({ ctx, params }) {
    const did = resolveSyncRepo(ctx, (params as { did: string }).did);
    const root = ctx.repo.root(did);
    return { cid: root.cid, rev: root.rev };
  },
});
