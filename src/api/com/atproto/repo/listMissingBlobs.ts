import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.listMissingBlobs',
  auth: 'access',
  accountAction: 'readOwnState',
  oauth: 'any',
  handler({ ctx, auth, params }) {
    const { limit, cursor } = params as { limit: number; cursor?: string };
    return ctx.blobs.listMissingBlobs(requireAccess(auth).did, { limit, cursor });
  },
});
