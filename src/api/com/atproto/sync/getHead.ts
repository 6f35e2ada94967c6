import { XrpcError } from '../../../../xrpc/index.ts';
import { defineMethod } from '../../../define.ts';
import { resolveSyncRepo } from './sync-access.ts';

/**
 * Deprecated for getLatestCommit, still served (as the reference PDS does) for older relays and
 * tools: the head commit's CID, under the same access rules as the other sync reads.
 */
export default defineMethod({
  nsid: 'com.atproto.sync.getHead',
  auth: 'optionalAccess',
  oauth: 'any',
  errors: ['RepoDeactivated', 'RepoTakendown'],
  handler({ ctx, auth, params }) {
    const { did } = params as { did: string };
    try {
      resolveSyncRepo(ctx, did, auth);
    } catch (err) {
      // The method's own name for a repo this server does not have.
      if (err instanceof XrpcError && err.error === 'RepoNotFound') throw new XrpcError(400, 'HeadNotFound', `Could not find root for DID: ${did}`);
      throw err;
    }
    return { root: ctx.repo.root(did).cid };
  },
});
