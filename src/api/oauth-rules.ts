// What an OAuth grant needs for each method: the `oauth` field of a method definition, stated
// once beside the method's `auth`. Sessions (passwords, app passwords) are not affected: these
// rules only look at requests made with an OAuth access token. A method that accepts sessions
// must say what OAuth needs (buildRegistry refuses to start otherwise), so no method can be
// reachable with any grant by accident.
import type { AuthState } from '../auth/types.ts';
import { ScopeMissingError, type GrantedPermissions } from '../oauth/scope/permissions.ts';
import { ForbiddenError, XrpcError, type Authorizer, type RequestInfo } from '../xrpc/index.ts';
import { registerErrorMapper } from './errors.ts';

export interface OAuthRuleArgs extends RequestInfo {
  input: unknown;
  inputEncoding: string | undefined;
}

/**
 * `any`: every OAuth session may call it (it reads or manages only what any signed-in app may);
 * `never`: OAuth sessions may not (credentials, app passwords, account deletion); or a check on
 * the grant's permissions that throws ScopeMissingError.
 */
export type OAuthRule = 'any' | 'never' | ((permissions: GrantedPermissions, args: OAuthRuleArgs) => void);

/** Verifiers whose callers may be OAuth sessions: methods using them need an `oauth` rule. */
export const OAUTH_CAPABLE_VERIFIERS: ReadonlySet<string> = new Set(['access', 'accessFull', 'accessPrivileged', 'optionalAccess']);

export function toAuthorizer(rule: OAuthRule): Authorizer<AuthState> {
  return (args) => {
    const { auth } = args;
    if (auth.type !== 'access' || auth.oauth === undefined || rule === 'any') return;
    if (rule === 'never') throw new ForbiddenError('OAuth credentials are not supported for this method: sign in with a password session');
    rule(auth.oauth.permissions, args);
  };
}

/** A repository write: the `repo:` permission for each collection and action it performs. */
export function repoRule(writes: (input: unknown) => Array<{ collection: string; action: 'create' | 'update' | 'delete' }>): OAuthRule {
  return (permissions, { input }) => {
    for (const write of writes(input)) permissions.assertRepo(write);
  };
}

/**
 * A method this PDS answers itself that the atproto permission model describes as a remote call
 * (preferences): an `rpc:` permission for the method, whatever audience it names.
 */
export function localRpcRule(lxm: string): OAuthRule {
  return (permissions) => permissions.assertRpcToAnyAudience(lxm);
}

registerErrorMapper((err) => (err instanceof ScopeMissingError ? new XrpcError(403, 'ScopeMissingError', err.message) : undefined));
