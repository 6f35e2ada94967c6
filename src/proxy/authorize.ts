import { assertAllowed } from '../accounts/account-policy.ts';
import { assertRpcScope } from '../auth/oauth-access.ts';
import { isPrivilegedMethod } from '../auth/privileged-methods.ts';
import type { AuthState } from '../auth/types.ts';
import { AuthRequiredError, ForbiddenError } from '../xrpc/index.ts';

/** A call about to be forwarded: the method, and the service as `did#service_id`. */
export interface ProxiedCall {
  lxm: string;
  aud: string;
}

/**
 * Who may have a call forwarded, decided once the controller's verifier has said who is calling:
 * the one place every forwarded call passes. Returns the account the service token is minted for.
 * The account's state must allow `proxy` (a taken-down account is refused; a deactivated one is
 * served, as by the official PDS). An OAuth grant needs the `rpc:` permission for this method and
 * this service (`transition:generic` covers all but chat, `transition:chat.bsky` chat); for a
 * session, chat needs a full session or a privileged app password.
 */
export function authorizeProxy(auth: AuthState, call: ProxiedCall): string {
  if (auth.type !== 'access') throw new AuthRequiredError('Forwarded calls are made for an account: sign in');
  assertAllowed(auth.state, 'proxy');
  if (auth.oauth !== undefined) {
    assertRpcScope(auth, call.lxm, call.aud);
  } else if (isPrivilegedMethod(call.lxm) && !auth.privileged) {
    throw new ForbiddenError(`Bad token method: ${call.lxm} needs a full session or a privileged app password`);
  }
  return auth.did;
}
