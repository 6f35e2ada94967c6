import { accountState } from '../../../../accounts/account-store.ts';
import { countAccountData } from '../../../../accounts/account-state.ts';
import { didDocumentProblem } from '../../../../accounts/did-doc-check.ts';
import { AccountError } from '../../../../accounts/errors.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { didCheckDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';
import { XrpcError } from '../../../../xrpc/index.ts';

/** Everything a migrating client checks before and after moving an account here, read from the database. */
export default defineMethod({
  nsid: 'com.atproto.server.checkAccountStatus',
  auth: 'access',
  accountAction: 'readOwnState',
  oauth: 'any',
  errors: ['AccountNotFound', 'RepoNotFound'],
  async handler({ ctx, auth }) {
    const { did } = requireAccess(auth);
    const account = ctx.accounts.byDid(did);
    if (!account) throw new AccountError('AccountNotFound', 'Account not found');
    const root = ctx.repo.rootOrUndefined(did);
    if (!root) throw new XrpcError(400, 'RepoNotFound', `Could not find repo for DID: ${did}`);
    const counts = countAccountData(ctx.db, did);
    const problem = await didDocumentProblem(didCheckDeps(ctx), account);
    return {
      activated: accountState(account) === 'active',
      validDid: problem === undefined,
      repoCommit: root.cid,
      repoRev: root.rev,
      ...counts,
    };
  },
});
