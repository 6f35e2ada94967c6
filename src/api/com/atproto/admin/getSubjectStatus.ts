import { AccountFlowError } from '../../../../accounts/flow-errors.ts';
import { defineMethod } from '../../../define.ts';
import { REPO_REF } from './subject.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.getSubjectStatus',
  auth: 'admin',
  errors: ['NotFound'],
  handler({ ctx, params }) {
    const { did, uri, blob } = params as { did?: string; uri?: string; blob?: string };
    // With `uri` or `blob` the subject is a record or a blob (whose account `did` names), not an account.
    if (uri !== undefined || blob !== undefined) throw new AccountFlowError('InvalidRequest', 'Only account subjects (did alone) are supported');
    if (did === undefined) throw new AccountFlowError('InvalidRequest', 'No subject given: pass did');
    const account = ctx.accounts.byDid(did);
    if (!account) throw new AccountFlowError('NotFound', 'Subject not found');
    return {
      subject: { $type: REPO_REF, did },
      takedown: account.takedownRef ? { applied: true, ref: account.takedownRef } : { applied: false },
      deactivated: { applied: account.deactivatedAt !== null },
    };
  },
});
