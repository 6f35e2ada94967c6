import { Preferences } from '../../../../accounts/preferences.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'app.bsky.actor.getPreferences',
  auth: 'access',
  accountAction: 'exportOwnData',
  handler({ ctx, auth }) {
    const { did, full } = requireAccess(auth);
    return { preferences: new Preferences(ctx.db).get(did, { full }) };
  },
});
