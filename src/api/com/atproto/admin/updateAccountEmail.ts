import { adminUpdateEmail } from '../../../../accounts/admin-accounts.ts';
import { AccountFlowError } from '../../../../accounts/flow-errors.ts';
import { emailTokens } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.updateAccountEmail',
  auth: 'admin',
  maxBodyBytes: 4096,
  errors: ['NotFound', 'InvalidEmail'],
  handler({ ctx, input }) {
    const body = input as { account: string; email: string };
    // `account` is a handle or a DID (at-identifier), never an email.
    const account = body.account.startsWith('did:') ? ctx.accounts.byDid(body.account) : ctx.accounts.byHandle(body.account);
    if (!account) throw new AccountFlowError('NotFound', 'Account not found');
    adminUpdateEmail({ db: ctx.db, accounts: ctx.accounts, tokens: emailTokens(ctx) }, account, body.email);
  },
});
