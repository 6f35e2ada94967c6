import { defineMethod } from '../../../define.ts';
import { recordJson } from '../../../record-json.ts';
import { readableRepoDid } from '../../../repo-access.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.getRecord',
  auth: 'none',
  errors: ['RepoNotFound', 'RepoDeactivated', 'RepoTakendown'],
  handler({ ctx, auth, params }) {
    const { repo, collection, rkey, cid } = params as { repo: string; collection: string; rkey: string; cid?: string };
    const did = readableRepoDid(ctx, repo, auth);
    return recordJson(ctx.repo.getRecord(did, collection, rkey, cid));
  },
});
