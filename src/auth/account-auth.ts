import type { AccountStore } from '../accounts/account-store.ts';
import type { AppPasswords } from '../accounts/app-passwords.ts';
import { AuthRequiredError, ExpiredTokenError, ForbiddenError, InvalidTokenError, type RequestInfo } from '../xrpc/index.ts';
import { Scope, SessionTokenError, type SessionTokens } from './session-jwt.ts';
import type { createOAuthAccessVerifier } from './oauth-access.ts';
import type { AccessAuth, RefreshAuth } from './types.ts';

export interface AccountAuthDeps {
  tokens: SessionTokens;
  accounts: AccountStore;
  appPasswords: AppPasswords;
  /** OAuth access tokens (`Authorization: DPoP`), accepted wherever a session is. */
  oauth: ReturnType<typeof createOAuthAccessVerifier>;
}

/** The token of `Authorization: DPoP <token>`, or undefined for any other scheme. */
function dpopToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 6 || header.charCodeAt(4) !== 0x20 || header.slice(0, 4).toLowerCase() !== 'dpop') return undefined;
  const token = header.slice(5).trim();
  return token === '' ? undefined : token;
}

export function bearerToken(info: RequestInfo): string {
  const header = info.req.headers.authorization;
  if (!header) throw new AuthRequiredError();
  const space = header.indexOf(' ');
  if (space === -1 || header.slice(0, space).toLowerCase() !== 'bearer') {
    throw new InvalidTokenError('Expected a Bearer token in the Authorization header');
  }
  const token = header.slice(space + 1).trim();
  if (token === '') throw new AuthRequiredError();
  return token;
}

function translate(err: unknown, oauth?: AccountAuthDeps['oauth'], token?: string): never {
  if (err instanceof SessionTokenError) {
    if (oauth && token && (err.reason === 'bad-signature' || err.reason === 'wrong-type')) oauth.refuseBearer(token);
    if (err.reason === 'expired') throw new ExpiredTokenError();
    throw new InvalidTokenError(err.message);
  }
  throw err;
}

/**
 * Access-token verifiers. Every call re-reads the account's state (a narrow prepared-statement lookup), so a
 * takedown, a deactivation or a revoked app password takes effect at once, not at token expiry.
 */
export function createAccessVerifiers(deps: AccountAuthDeps) {
  const verifyAccess = (info: RequestInfo): AccessAuth | Promise<AccessAuth> => {
    const oauthToken = dpopToken(info.req.headers.authorization);
    if (oauthToken !== undefined) return deps.oauth.verify(info, oauthToken);
    const token = bearerToken(info);
    let claims;
    try {
      claims = deps.tokens.verifyAccess(token);
    } catch (err) {
      translate(err, deps.oauth, token);
    }
    const did = claims.sub;
    // What the account may do in its state is each method's `accountAction` (checked by the API layer).
    const state = deps.accounts.stateByDid(did);
    if (!state) throw new InvalidTokenError('Account of this token does not exist');
    const full = claims.scope === Scope.Access;
    let privileged = full;
    if (!full) {
      // An app-password token from before ids (it names the app password) reads as expired: the
      // client refreshes, and its refresh token was moved to the id when the database migrated.
      if (claims.apid === undefined) throw new ExpiredTokenError('Token has expired');
      const appPassword = deps.appPasswords.byId(did, claims.apid);
      if (!appPassword) throw new InvalidTokenError('The app password of this session was revoked');
      privileged = appPassword.privileged;
    }
    return { type: 'access', did, scope: claims.scope, appPasswordId: claims.apid, full, privileged, state };
  };

  return {
    /** Any session: full, or opened with an app password (privileged or not). */
    access: verifyAccess,
    /**
     * Full sessions only (signed in with the account password): managing the account, its
     * credentials (app passwords), email, invite codes and identity (handle, PLC operations).
     * No app password passes, privileged or not. OAuth grants pass to the method's `oauth` rule,
     * which asks for the permission the person approved on the consent page (identity:handle,
     * account:email?action=manage...) or refuses OAuth outright.
     */
    accessFull: (info: RequestInfo): AccessAuth | Promise<AccessAuth> => {
      const auth = verifyAccess(info);
      if (auth instanceof Promise) return auth;
      if (!auth.full) throw new ForbiddenError('This method needs a full session: sign in with the account password, not an app password');
      return auth;
    },
    /**
     * Sessions that may reach privileged methods (`isPrivilegedMethod`: chat.bsky.*, direct
     * messages): full sessions and privileged app passwords. For the chat proxy and nothing else;
     * account management is `accessFull`. OAuth grants pass to the method's `oauth` rule.
     */
    accessPrivileged: (info: RequestInfo): AccessAuth | Promise<AccessAuth> => {
      const auth = verifyAccess(info);
      if (auth instanceof Promise) return auth;
      if (!auth.privileged) throw new ForbiddenError('This method needs a full session or a privileged app password');
      return auth;
    },
    /** Optional: anonymous callers pass as `none`, a bad token still fails. */
    optionalAccess: (info: RequestInfo): AccessAuth | Promise<AccessAuth> | { type: 'none' } => {
      if (!info.req.headers.authorization) return { type: 'none' };
      return verifyAccess(info);
    },
    refresh: (info: RequestInfo): RefreshAuth => {
      const token = bearerToken(info);
      let claims;
      try {
        claims = deps.tokens.verifyRefresh(token);
      } catch (err) {
        translate(err);
      }
      return { type: 'refresh', did: claims.sub, token };
    },
  };
}
