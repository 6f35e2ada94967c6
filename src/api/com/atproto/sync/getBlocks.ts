import { blocksCar } from '../../../../sync/repo-export.ts';
import { BinaryOutput } from '../../../../xrpc/index.ts';
import { defineMethod } from '../../../define.ts';
import { resolveSyncRepo } from './sync-access.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.getBlocks',
  auth: 'optionalAccess',
  // Public reads; an OAuth session may read its own deactivated repo like any session.
  oauth: 'any',
  handler({ ctx, auth, params }) {
    const { did, cids } = params as { did: string; cids: string[] };
    resolveSyncRepo(ctx, did, auth);
    return new BinaryOutput('application/vnd.ipld.car', blocksCar(ctx.db, did, cids));
  },
});
