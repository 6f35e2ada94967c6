import { prepareRecord } from '../../../../repo/prepare-write.ts';
import { defineMethod } from '../../../define.ts';
import { repoRule } from '../../../oauth-rules.ts';
import { REPO_WRITE_ERRORS } from '../../../repo-errors.ts';
import { writeRateLimits } from '../../../write-limits.ts';
import { writableRepo } from '../../../repo-access.ts';

interface Input {
  repo: string;
  collection: string;
  rkey?: string;
  validate?: boolean;
  record: unknown;
  swapCommit?: string;
}

export default defineMethod({
  nsid: 'com.atproto.repo.createRecord',
  auth: 'access',
  accountAction: 'writeRecords',
  oauth: repoRule((input) => [{ collection: (input as Input).collection, action: 'create' }]),
  errors: REPO_WRITE_ERRORS,
  rateLimits: writeRateLimits(() => ['create']),
  async handler({ ctx, auth, input }) {
    const body = input as Input;
    const did = writableRepo(ctx, auth, body.repo);
    const write = prepareRecord(ctx.lexicons, { ...body, swapRecord: null }, 'create');
    const { commit, results } = await ctx.repo.applyWrites(did, [write], { swapCommit: body.swapCommit });
    return { uri: results[0].uri, cid: results[0].cid!, commit, validationStatus: write.validationStatus };
  },
});
