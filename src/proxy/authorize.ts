import { assertAllowed } from '../accounts/account-policy.ts';
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
 * the one place every forwarded call passes (OAuth `rpc:` scopes belong here, by `lxm` and `aud`).
 * Returns the account the service token is minted for. The account's state must allow `proxy`
 * (a taken-down account is refused; a deactivated one is served, as by the official PDS).
 */
export function authorizeProxy(auth: AuthState, call: ProxiedCall): string {
  if (auth.type !== 'access') throw new AuthRequiredError('Forwarded calls are made for an account: sign in');
  assertAllowed(auth.state, 'proxy');
  if (isPrivilegedMethod(call.lxm) && !auth.privileged) {
    throw new ForbiddenError(`Bad token method: ${call.lxm} needs a full session or a privileged app password`);
  }
  return auth.did;
}
