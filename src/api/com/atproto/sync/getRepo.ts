import { exportRepoCar } from '../../../../sync/repo-export.ts';
import { BinaryOutput } from '../../../../xrpc/index.ts';
import { defineMethod } from '../../../define.ts';
import { resolveSyncRepo } from './sync-access.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.getRepo',
  auth: 'optionalAccess',
  // Public reads; an OAuth session may read its own deactivated repo like any session.
  oauth: 'any',
  handler({ ctx, auth, params }) {
    const { did, since } = params as { did: string; since?: string };
    resolveSyncRepo(ctx, did, auth);
    // Streamed from one snapshot: a repo of any size is exported without being held in memory.
    return new BinaryOutput('application/vnd.ipld.car', exportRepoCar(ctx.db, did, since));
  },
});
