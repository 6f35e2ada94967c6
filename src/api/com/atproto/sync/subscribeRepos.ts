import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.sync.subscribeRepos',
  auth: 'none',
  errors: ['FutureCursor', 'ConsumerTooSlow'],
  subscription({ ctx, params, signal }) {
    const cursor = (params as { cursor?: number }).cursor;
    return ctx.firehose.subscribe(cursor, signal);
  },
});
