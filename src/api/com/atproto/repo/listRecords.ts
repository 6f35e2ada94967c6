import { defineMethod } from '../../../define.ts';
import { recordPageJson } from '../../../record-json.ts';
import { readableRepoDid } from '../../../repo-access.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.listRecords',
  auth: 'none',
  errors: ['RepoNotFound', 'RepoDeactivated', 'RepoTakendown'],
  handler({ ctx, auth, params }) {
    const { repo, collection, limit, cursor, reverse } = params as {
      repo: string;
      collection: string;
      limit: number;
      cursor?: string;
      reverse?: boolean;
    };
    const did = readableRepoDid(ctx, repo, auth);
    return recordPageJson(ctx.repo.listRecords(did, collection, { limit, cursor, reverse: reverse ?? false }));
  },
});
