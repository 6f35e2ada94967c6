import { recordProofCar } from '../../../../sync/repo-export.ts';
import { BinaryOutput } from '../../../../xrpc/index.ts';
import { defineMethod } from '../../../define.ts';
import { resolveSyncRepo } from './sync-access.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.getRecord',
  auth: 'optionalAccess',
  // Public reads; an OAuth session may read its own deactivated repo like any session.
  oauth: 'any',
  handler({ ctx, auth, params }) {
    const { did, collection, rkey } = params as { did: string; collection: string; rkey: string };
    resolveSyncRepo(ctx, did, auth);
    return new BinaryOutput('application/vnd.ipld.car', recordProofCar(ctx.db, did, collection, rkey));
  },
});
