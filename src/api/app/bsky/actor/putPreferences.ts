import { Preferences } from '../../../../accounts/preferences.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';
import { localRpcRule } from '../../../oauth-rules.ts';

export default defineMethod({
  nsid: 'app.bsky.actor.putPreferences',
  // Preferences belong to an AppView: another AppView named by the header keeps its own.
  forwardWhenProxiedElsewhere: true,
  auth: 'access',
  accountAction: 'writePreferences',
  oauth: localRpcRule('app.bsky.actor.putPreferences'),
  maxBodyBytes: 256 * 1024,
  handler({ ctx, auth, input }) {
    const { did, full } = requireAccess(auth);
    new Preferences(ctx.db).put(did, (input as { preferences: unknown[] }).preferences, { full });
  },
});
