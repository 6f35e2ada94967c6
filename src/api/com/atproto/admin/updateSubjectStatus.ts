import { activateAccount, deactivateAccount, updateTakedown } from '../../../../accounts/account-state.ts';
import { requireAccount } from '../../../../accounts/admin-accounts.ts';
import { accountStateDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';
import { subjectAccount } from './subject.ts';

interface StatusAttr {
  applied: boolean;
  ref?: string;
}

/** Takes an account down or restores it (`takedown`), or (de)activates it (`deactivated`), with `#account` events. */
export default defineMethod({
  nsid: 'com.atproto.admin.updateSubjectStatus',
  auth: 'admin',
  maxBodyBytes: 16 * 1024,
  errors: ['NotFound', 'AccountNotFound'],
  async handler({ ctx, input }) {
    const body = input as { subject: { $type?: string; did?: string }; takedown?: StatusAttr; deactivated?: StatusAttr };
    const did = subjectAccount(body.subject);
    requireAccount(ctx.accounts, did);
    const deps = accountStateDeps(ctx);
    if (body.takedown) await updateTakedown(deps, did, body.takedown);
    if (body.deactivated) {
      if (body.deactivated.applied) await deactivateAccount(deps, did);
      else await activateAccount(deps, did);
    }
    return { subject: body.subject, ...(body.takedown ? { takedown: body.takedown } : {}) };
  },
});
