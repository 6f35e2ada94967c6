import { publicStatus } from '../../../../accounts/account-policy.ts';
import { accountState, type Account } from '../../../../accounts/account-store.ts';
import { localDidDocument } from '../../../../accounts/did-doc.ts';
import type { AppContext } from '../../../../context.ts';

/** What session answers say about the account (shared by create, get and refresh). */
export function sessionView(ctx: AppContext, account: Account, showEmail: boolean) {
  const state = accountState(account);
  const status = publicStatus(state);
  return {
    did: account.did,
    handle: account.handle,
    // An account arriving by migration is not hosted here yet: its DID document still names
    // another PDS, and a client that followed one pointing here would be misled either way.
    ...(state === 'arriving'
      ? {}
      : {
          didDoc: localDidDocument({
            did: account.did,
            handle: account.handle,
            signingKeyDid: account.signingKeyDid,
            pdsUrl: ctx.config.service.publicUrl,
          }),
        }),
    ...(showEmail && account.email ? { email: account.email, emailConfirmed: account.emailConfirmedAt !== null, emailAuthFactor: account.emailAuthFactor } : {}),
    active: status === 'active',
    ...(status === 'active' ? {} : { status }),
  };
}
