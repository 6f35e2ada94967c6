import type { AppContext } from '../context.ts';
import type { AuthVerifier } from '../xrpc/index.ts';
import { createAccessVerifiers } from './account-auth.ts';
import { createAdminVerifier } from './admin.ts';
import { FailureThrottle } from './failure-throttle.ts';
import { createOAuthAccessVerifier } from './oauth-access.ts';
import { createServiceAuthVerifier, SERVICE_AUTH_ERROR_NAMES } from './service-auth-verifier.ts';
import type { AuthState } from './types.ts';

/**
 * Failed admin credentials per client (an IPv4 address or an IPv6 /64): 10 in 15 minutes, then
 * 429 until the window ends. 10,000 clients tracked at most (well under 2 MB).
 */
const ADMIN_FAILURES = { maxFailures: 10, windowMs: 15 * 60_000, maxClients: 10_000 };

/**
 * The error names the verifiers answer with, beyond the generic XRPC ones: service-auth JWT
 * refusals, and OAuth's (as the official PDS names them): a DPoP proof to redo, a bad or revoked
 * token, and a grant without the scope a call needs (403).
 */
export const AUTH_ERROR_NAMES: readonly string[] = [
  ...SERVICE_AUTH_ERROR_NAMES,
  'use_dpop_nonce',
  'invalid_dpop_proof',
  'invalid_token',
  'ScopeMissingError',
];

/** The auth verifiers method definitions refer to by name (`auth: 'access'`). */
export function buildVerifiers(ctx: AppContext): Record<string, AuthVerifier<AuthState>> {
  const oauth = createOAuthAccessVerifier({ resource: ctx.oauth.resource, accessTokens: ctx.oauth.accessTokens, accounts: ctx.accounts });
  const access = createAccessVerifiers({ tokens: ctx.sessions.tokens, accounts: ctx.accounts, appPasswords: ctx.appPasswords, oauth });
  const service = createServiceAuthVerifier({ serviceDid: ctx.config.service.did, dids: ctx.identity.dids });
  return {
    none: () => ({ type: 'none' }),
    admin: createAdminVerifier(ctx.secrets.adminPassword, ctx.config.rateLimits.enabled ? new FailureThrottle(ADMIN_FAILURES) : undefined),
    access: access.access,
    accessFull: access.accessFull,
    accessPrivileged: access.accessPrivileged,
    optionalAccess: access.optionalAccess,
    refresh: access.refresh,
    service,
    /** A service token when one is sent, anonymous otherwise (createAccount: a migration brings one). */
    optionalService: (info) => (info.req.headers.authorization ? service(info) : { type: 'none' }),
  };
}
