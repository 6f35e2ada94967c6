import { checkCollection } from '../../../../repo/prepare-write.ts';
import { defineMethod } from '../../../define.ts';
import { repoRule } from '../../../oauth-rules.ts';
import { REPO_WRITE_ERRORS } from '../../../repo-errors.ts';
import { writeRateLimits } from '../../../write-limits.ts';
import { writableRepo } from '../../../repo-access.ts';

interface Input {
  repo: string;
  collection: string;
  rkey: string;
  swapRecord?: string;
  swapCommit?: string;
}

export default defineMethod({
  nsid: 'com.atproto.repo.deleteRecord',
  auth: 'access',
  accountAction: 'writeRecords',
  oauth: repoRule((input) => [{ collection: (input as Input).collection, action: 'delete' }]),
  errors: REPO_WRITE_ERRORS,
  rateLimits: writeRateLimits(() => ['delete']),
  async handler({ ctx, auth, input }) {
    const body = input as Input;
    const did = writableRepo(ctx, auth, body.repo);
    checkCollection(body.collection);
    const { commit } = await ctx.repo.applyWrites(
      did,
      [{ action: 'delete', collection: body.collection, rkey: body.rkey, swapRecord: body.swapRecord }],
      { swapCommit: body.swapCommit, ignoreMissingDelete: body.swapRecord === undefined },
    );
    return commit ? { commit } : {};
  },
});
