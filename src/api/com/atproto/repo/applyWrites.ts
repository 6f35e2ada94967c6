import { checkCollection, MAX_WRITES_PER_BATCH, prepareRecord, type PreparedWrite } from '../../../../repo/prepare-write.ts';
import { RepoWriteError } from '../../../../repo/write-errors.ts';
import { defineMethod } from '../../../define.ts';
import { repoRule } from '../../../oauth-rules.ts';
import { REPO_WRITE_ERRORS } from '../../../repo-errors.ts';
import { writeRateLimits } from '../../../write-limits.ts';
import { writableRepo } from '../../../repo-access.ts';

type Write =
  | { $type: 'com.atproto.repo.applyWrites#create'; collection: string; rkey?: string; value: unknown }
  | { $type: 'com.atproto.repo.applyWrites#update'; collection: string; rkey: string; value: unknown }
  | { $type: 'com.atproto.repo.applyWrites#delete'; collection: string; rkey: string };

interface Input {
  repo: string;
  validate?: boolean;
  writes: Write[];
  swapCommit?: string;
}

const RESULT_TYPES = {
  create: 'com.atproto.repo.applyWrites#createResult',
  update: 'com.atproto.repo.applyWrites#updateResult',
  delete: 'com.atproto.repo.applyWrites#deleteResult',
} as const;

export default defineMethod({
  nsid: 'com.atproto.repo.applyWrites',
  auth: 'access',
  accountAction: 'writeRecords',
  oauth: repoRule((input) =>
    ((input as Input).writes ?? []).map((w) => ({ collection: w.collection, action: w.$type.endsWith('#create') ? 'create' : w.$type.endsWith('#update') ? 'update' : 'delete' })),
  ),
  errors: REPO_WRITE_ERRORS,
  rateLimits: writeRateLimits((input) => ((input as Input).writes ?? []).map((w) => (w.$type.endsWith('#create') ? 'create' : w.$type.endsWith('#update') ? 'update' : 'delete'))),
  maxBodyBytes: 8 * 1024 * 1024,
  async handler({ ctx, auth, input }) {
    const body = input as Input;
    const did = writableRepo(ctx, auth, body.repo);
    if (body.writes.length > MAX_WRITES_PER_BATCH) {
      throw new RepoWriteError('TooManyWrites', `Too many writes: at most ${MAX_WRITES_PER_BATCH} per call`);
    }
    const writes: PreparedWrite[] = body.writes.map((write) => {
      switch (write.$type) {
        case 'com.atproto.repo.applyWrites#create':
          return prepareRecord(ctx.lexicons, { collection: write.collection, rkey: write.rkey, record: write.value, validate: body.validate, swapRecord: null }, 'create');
        case 'com.atproto.repo.applyWrites#update':
          return prepareRecord(ctx.lexicons, { collection: write.collection, rkey: write.rkey, record: write.value, validate: body.validate }, 'update');
        case 'com.atproto.repo.applyWrites#delete':
          checkCollection(write.collection);
          return { action: 'delete', collection: write.collection, rkey: write.rkey };
        default:
          throw new RepoWriteError('InvalidRecord', 'Unknown write type');
      }
    });
    const { commit, results } = await ctx.repo.applyWrites(did, writes, { swapCommit: body.swapCommit });
    return {
      commit,
      results: writes.map((write, i) => {
        const type = RESULT_TYPES[write.action];
        if (write.action === 'delete') return { $type: type };
        return { $type: type, uri: results[i].uri, cid: results[i].cid!, validationStatus: write.validationStatus };
      }),
    };
  },
});
