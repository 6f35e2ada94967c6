import { prepareRecord } from '../../../../repo/prepare-write.ts';
import { defineMethod } from '../../../define.ts';
import { repoRule } from '../../../oauth-rules.ts';
import { REPO_WRITE_ERRORS } from '../../../repo-errors.ts';
import { writeRateLimits } from '../../../write-limits.ts';
import { writableRepo } from '../../../repo-access.ts';

interface Input {
  repo: string;
  collection: string;
  rkey: string;
  validate?: boolean;
  record: unknown;
  swapRecord?: string | null;
  swapCommit?: string;
}

export default defineMethod({
  nsid: 'com.atproto.repo.putRecord',
  auth: 'access',
  accountAction: 'writeRecords',
  // putRecord creates or updates, whichever applies: a grant needs both, as the official PDS asks.
  oauth: repoRule((input) => [
    { collection: (input as Input).collection, action: 'create' },
    { collection: (input as Input).collection, action: 'update' },
  ]),
  errors: REPO_WRITE_ERRORS,
  rateLimits: writeRateLimits(() => ['update']),
  async handler({ ctx, auth, input }) {
    const body = input as Input;
    const did = writableRepo(ctx, auth, body.repo);
    // Create or update, whichever applies: the write path decides from the current record.
    const write = prepareRecord(ctx.lexicons, body, 'update');
    const { commit, results } = await ctx.repo.applyWrites(did, [write], { swapCommit: body.swapCommit, upsert: true });
    return { uri: results[0].uri, cid: results[0].cid!, commit, validationStatus: write.validationStatus };
  },
});
