import { publicStatus, type AccountState } from '../../../../accounts/account-policy.ts';
import { accountState, type Account } from '../../../../accounts/account-store.ts';
import { localDidDocument } from '../../../../accounts/did-doc.ts';
import type { AppContext } from '../../../../context.ts';
import type { DidDocument } from '../../../../identity/did-document.ts';

/** What session answers say about the account (shared by create, get and refresh). */
export async function sessionView(ctx: AppContext, account: Account, showEmail: boolean) {
  const state = accountState(account);
  const status = publicStatus(state);
  const didDoc = await sessionDidDocument(ctx, account, state);
  return {
    did: account.did,
    handle: account.handle,
    ...(didDoc ? { didDoc } : {}),
    ...(showEmail && account.email ? { email: account.email, emailConfirmed: account.emailConfirmedAt !== null, emailAuthFactor: account.emailAuthFactor } : {}),
    active: status === 'active',
    ...(status === 'active' ? {} : { status }),
  };
}

/**
 * The DID document a session answer carries (clients such as the official one take the PDS to
 * talk to from it). An active account is hosted here, as activation checked: its document is the
 * one this PDS publishes. An account arriving by migration gets none: its document still names
 * the old PDS, and a client that followed it would leave the new one mid-migration. Any other
 * state (deactivated, taken down) may mean the DID has moved to another PDS: the document is the
 * DID's current one, resolved afresh (at most once a second per DID, by the resolver), as the
 * official PDS answers; none when it cannot be resolved.
 */
async function sessionDidDocument(ctx: AppContext, account: Account, state: AccountState): Promise<DidDocument | undefined> {
  if (state === 'arriving') return undefined;
  if (state === 'active') {
    return localDidDocument({ did: account.did, handle: account.handle, signingKeyDid: account.signingKeyDid, pdsUrl: ctx.config.service.publicUrl });
  }
  try {
    return await ctx.identity.dids.resolveDocument(account.did, { forceRefresh: true });
  } catch (err) {
    ctx.log.warn({ err, did: account.did }, 'could not resolve the DID document of a session');
    return undefined;
  }
}
