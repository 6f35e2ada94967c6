import { checkBlobRepoAccess } from '../../../blob-errors.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.listBlobs',
  auth: 'optionalAccess',
  oauth: 'any',
  handler({ ctx, auth, params }) {
    const { did, since, limit, cursor } = params as { did: string; since?: string; limit: number; cursor?: string };
    checkBlobRepoAccess(ctx, did, auth);
    return ctx.blobs.listBlobs(did, { since, limit, cursor });
  },
});
