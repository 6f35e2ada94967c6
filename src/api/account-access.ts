import { assertAllowed, type AccountAction } from '../accounts/account-policy.ts';
import type { AuthState } from '../auth/types.ts';
import type { AppContext } from '../context.ts';
import type { AuthVerifier, MethodDef } from '../xrpc/index.ts';
import type { AppMethod } from './define.ts';

/** Verifiers whose auth is a session of the caller's own account. */
const SESSION_VERIFIERS: ReadonlySet<string> = new Set(['access', 'accessFull', 'accessPrivileged']);

/**
 * Puts the account state policy into the method table: a method that takes a session gets a
 * verifier that also checks `allows(state, accountAction)`, so no handler can forget it. A
 * session method without an `accountAction` stops the server at start, as does an action on a
 * method without a session (it would be checked against nobody).
 */
export function applyAccountPolicy(
  defs: readonly AppMethod[],
  verifiers: Record<string, AuthVerifier<AuthState>>,
): { methods: Array<MethodDef<AppContext, AuthState>>; verifiers: Record<string, AuthVerifier<AuthState>> } {
  const all = { ...verifiers };
  const methods = defs.map((def) => {
    const { accountAction, ...method } = def;
    const takesSession = SESSION_VERIFIERS.has(def.auth);
    if (takesSession && accountAction === undefined) {
      throw new Error(`method ${def.nsid} takes a session but names no accountAction (what it does with the account: accounts/account-policy.ts)`);
    }
    if (!takesSession && accountAction !== undefined) {
      throw new Error(`method ${def.nsid} names accountAction ${accountAction} but takes no session (auth "${def.auth}")`);
    }
    if (accountAction === undefined) return method;
    const name = `${def.auth}+${accountAction}`;
    const base = verifiers[def.auth];
    if (base === undefined) return method; // the registry reports the unknown verifier
    all[name] ??= checkingState(base, accountAction);
    return { ...method, auth: name };
  });
  return { methods, verifiers: all };
}

function checkingState(base: AuthVerifier<AuthState>, action: AccountAction): AuthVerifier<AuthState> {
  const check = (auth: AuthState): AuthState => {
    if (auth.type === 'access') assertAllowed(auth.state, action);
    return auth;
  };
  return (info) => {
    const auth = base(info);
    return auth instanceof Promise ? auth.then(check) : check(auth);
  };
}
