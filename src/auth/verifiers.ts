import type { AppContext } from '../context.ts';
import type { AuthVerifier } from '../xrpc/index.ts';
import { createAccessVerifiers } from './account-auth.ts';
import { createAdminVerifier } from './admin.ts';
import { createServiceAuthVerifier } from './service-auth-verifier.ts';
import type { AuthState } from './types.ts';

/** The auth verifiers method definitions refer to by name (`auth: 'access'`). */
export function buildVerifiers(ctx: AppContext): Record<string, AuthVerifier<AuthState>> {
  const access = createAccessVerifiers({ tokens: ctx.sessions.tokens, accounts: ctx.accounts, appPasswords: ctx.appPasswords });
  const service = createServiceAuthVerifier({ serviceDid: ctx.config.service.did, dids: ctx.identity.dids });
  return {
    none: () => ({ type: 'none' }),
    admin: createAdminVerifier(ctx.secrets.adminPassword),
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
