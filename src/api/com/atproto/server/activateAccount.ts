import { activateAccount } from '../../../../accounts/account-state.ts';
import { didDocumentProblem } from '../../../../accounts/did-doc-check.ts';
import { AccountError } from '../../../../accounts/errors.ts';
import { AccountFlowError } from '../../../../accounts/flow-errors.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { accountStateDeps, didCheckDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.server.activateAccount',
  auth: 'accessFull',
  accountAction: 'activate',
  oauth: (permissions) => permissions.assertAccount({ attr: 'status', action: 'manage' }),
  errors: ['AccountNotFound'],
  async handler({ ctx, auth }) {
    const { did } = requireAccess(auth);
    const account = ctx.accounts.byDid(did);
    if (!account) throw new AccountError('AccountNotFound', 'Account not found');
    // An account whose identity points elsewhere (a migration not finished) must not go live here.
    const problem = await didDocumentProblem(didCheckDeps(ctx), account);
    if (problem) throw new AccountFlowError('InvalidRequest', problem);
    await activateAccount(accountStateDeps(ctx), did);
  },
});
