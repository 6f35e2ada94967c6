import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.deleteSession',
  auth: 'refresh',
  handler({ ctx, auth }) {
    if (auth.type !== 'refresh') throw new Error('refresh auth expected');
    ctx.sessions.revoke(auth.token);
  },
});
