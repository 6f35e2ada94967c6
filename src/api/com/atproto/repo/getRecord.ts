import { defineMethod } from '../../../define.ts';
import { resolveReadableRepo } from './write-access.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.getRecord',
  auth: 'none',
  errors: ['RepoNotFound', 'RepoDeactivated', 'RepoTakendown'],
  handler({ ctx, params }) {
    const { repo, collection, rkey, cid } = params as { repo: string; collection: string; rkey: string; cid?: string };
    const did = resolveReadableRepo(ctx, repo);
    return ctx.repo.getRecord(did, collection, rkey, cid);
  },
});
