import { exportRepoCar } from '../../../../sync/repo-export.ts';
import { BinaryOutput } from '../../../../xrpc/index.ts';
import { defineMethod } from '../../../define.ts';
import { resolveSyncRepo } from './sync-access.ts';

/**
 * Deprecated for getRepo, still served (as the reference PDS does) for older relays and tools:
 * the whole repo as a CAR, exactly getRepo without `since`.
 */
export default defineMethod({
  nsid: 'com.atproto.sync.getCheckout',
  auth: 'optionalAccess',
  oauth: 'any',
  errors: ['RepoNotFound', 'RepoDeactivated', 'RepoTakendown'],
  handler({ ctx, auth, params }) {
    const { did } = params as { did: string };
    resolveSyncRepo(ctx, did, auth);
    return new BinaryOutput('application/vnd.ipld.car', exportRepoCar(ctx.db, did));
  },
});
