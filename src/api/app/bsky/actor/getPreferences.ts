import { Preferences } from '../../../../accounts/preferences.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';
import { localRpcRule } from '../../../oauth-rules.ts';

export default defineMethod({
  nsid: 'app.bsky.actor.getPreferences',
  // Preferences belong to an AppView: another AppView named by the header keeps its own.
  forwardWhenProxiedElsewhere: true,
  auth: 'access',
  accountAction: 'exportOwnData',
  oauth: localRpcRule('app.bsky.actor.getPreferences'),
  handler({ ctx, auth }) {
    const { did, full } = requireAccess(auth);
    return { preferences: new Preferences(ctx.db).get(did, { full }) };
  },
});
