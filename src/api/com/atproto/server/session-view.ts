import { accountStatus, type Account } from '../../../../accounts/account-store.ts';
import { localDidDocument } from '../../../../accounts/did-doc.ts';
import type { AppContext } from '../../../../context.ts';

/** What session answers say about the account (shared by create, get and refresh). */
export function sessionView(ctx: AppContext, account: Account, showEmail: boolean) {
  const status = accountStatus(account);
  return {
    did: account.did,
    handle: account.handle,
    didDoc: localDidDocument({
      did: account.did,
      handle: account.handle,
      signingKeyDid: account.signingKeyDid,
      pdsUrl: ctx.config.service.publicUrl,
    }),
    ...(showEmail && account.email ? { email: account.email, emailConfirmed: account.emailConfirmedAt !== null, emailAuthFactor: false } : {}),
    active: status === 'active',
    ...(status === 'active' ? {} : { status }),
  };
}
