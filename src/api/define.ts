import type { AccountAction } from '../accounts/account-policy.ts';
import type { AuthState } from '../auth/types.ts';
import type { AppContext } from '../context.ts';
import type { MethodDef } from '../xrpc/index.ts';
import { OAUTH_CAPABLE_VERIFIERS, toAuthorizer, type OAuthRule } from './oauth-rules.ts';

export interface AppMethod extends MethodDef<AppContext, AuthState> {
  /**
   * What calling this method does with the caller's own account, for methods that take a session
   * (`access`, `accessFull`, `accessPrivileged`): required for them, checked against the account
   * state policy (accounts/account-policy.ts) before the body is read. Decisions that depend on the
   * request (whose repo is read, which service token is asked for) are the handler's, on top.
   */
  accountAction?: AccountAction;
  /**
   * What an OAuth access token needs to call this method. Required when `auth` takes sessions
   * (`access`, `accessFull`, `accessPrivileged`, `optionalAccess`); see oauth-rules.ts.
   */
  oauth?: OAuthRule;
}

/** Identity function that gives a method definition its types. */
export function defineMethod(def: AppMethod): AppMethod {
  return def;
}

/** The OAuth rule becomes the method's authorizer (what the registry runs once the request is parsed). */
export function toMethodDef(def: AppMethod): AppMethod {
  if (OAUTH_CAPABLE_VERIFIERS.has(def.auth) && def.oauth === undefined) {
    throw new Error(`method ${def.nsid} accepts sessions (auth "${def.auth}") but does not say what an OAuth grant needs (oauth rule)`);
  }
  if (def.oauth === undefined) return def;
  const { oauth, ...rest } = def;
  const rule = toAuthorizer(oauth);
  const own = def.authorize;
  return { ...rest, authorize: own ? async (args) => { await rule(args); await own(args); } : rule };
}
