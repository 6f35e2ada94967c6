import type { AccountAction } from '../accounts/account-policy.ts';
import type { AuthState } from '../auth/types.ts';
import type { AppContext } from '../context.ts';
import type { MethodDef } from '../xrpc/index.ts';

export interface AppMethod extends MethodDef<AppContext, AuthState> {
  /**
   * What calling this method does with the caller's own account, for methods that take a session
   * (`access`, `accessFull`, `accessPrivileged`): required for them, checked against the account
   * state policy (accounts/account-policy.ts) before the body is read. Decisions that depend on the
   * request (whose repo is read, which service token is asked for) are the handler's, on top.
   */
  accountAction?: AccountAction;
}

/** Identity function that gives a method definition its types. */
export function defineMethod(def: AppMethod): AppMethod {
  return def;
}
