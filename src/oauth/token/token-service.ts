// The token endpoint's grants (authorization_code with PKCE, refresh_token with rotation) and
// revocation (RFC 7009). Codes and refresh tokens work once: a second use of either is treated as
// theft, and the session they opened is revoked. Every token is bound to the DPoP key of the
// request that pushed the authorization, and a confidential client's session to its signing key.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ClientAuthenticator, type ClientAuth } from '../client/client-auth.ts';
import type { ClientKey, OAuthClient } from '../client/client-metadata.ts';
import { OAuthError } from '../errors.ts';
import type { OAuthStore, SessionRecord } from '../store/types.ts';
import { ACCESS_TOKEN_TTL_S, AccessTokens } from './access-token.ts';
import { refreshExpiry, sessionExpiry } from './lifetimes.ts';
import { hashSecret, randomToken } from './secrets.ts';

export interface TokenResponse {
  access_token: string;
  token_type: 'DPoP';
  expires_in: number;
  refresh_token?: string;
  scope: string;
  sub: string;
}

/** Turns granted scopes into the permissions requests are checked against (`include:` sets expanded). */
export type PermissionExpander = (scope: string) => Promise<string>;

export interface TokenServiceDeps {
  store: OAuthStore;
  accessTokens: AccessTokens;
  expandPermissions: PermissionExpander;
  /** Whether the account may still be issued tokens (exists, not taken down). */
  canIssueFor: (did: string) => boolean;
  now?: () => number;
}

export interface GrantContext {
  client: OAuthClient;
  clientAuth: ClientAuth;
  /** Thumbprint of the DPoP key that signed this token request's proof. */
  dpopJkt: string;
}

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export class TokenService {
  readonly #now: () => number;

  constructor(private readonly deps: TokenServiceDeps) {
    this.#now = deps.now ?? Date.now;
  }

  async exchangeCode(ctx: GrantContext, params: { code?: string; redirect_uri?: string; code_verifier?: string }): Promise<TokenResponse> {
    const { store } = this.deps;
    if (typeof params.code !== 'string' || params.code === '') throw new OAuthError('invalid_request', 'code is required');
    const codeHash = hashSecret(params.code);
    const request = await store.takeRequestByCode(codeHash);
    if (request === undefined) {
      const issued = await store.findSessionByCode(codeHash);
      if (issued !== undefined) {
        await store.deleteSession(issued.id);
        throw new OAuthError('invalid_grant', 'This authorization code was already used: the session it opened has been revoked');
      }
      throw new OAuthError('invalid_grant', 'Unknown or expired authorization code');
    }
    const now = new Date(this.#now());
    if (request.expiresAt <= now) throw new OAuthError('invalid_grant', 'This authorization code has expired');
    if (request.clientId !== ctx.client.clientId) throw new OAuthError('invalid_grant', 'This authorization code was issued to another client');
    if (request.did === null) throw new OAuthError('invalid_grant', 'This authorization code is not for any account');
    if (!ClientAuthenticator.sameBinding(request.clientAuth, ctx.clientAuth)) {
      throw new OAuthError('invalid_grant', 'The client must authenticate as it did in the pushed authorization request (same method and key)');
    }
    if (request.dpopJkt !== ctx.dpopJkt) throw new OAuthError('invalid_grant', 'The DPoP key must be the one used for the pushed authorization request');
    if (params.redirect_uri !== request.parameters.redirect_uri) throw new OAuthError('invalid_grant', 'redirect_uri must be the one of the authorization request');
    if (typeof params.code_verifier !== 'string' || !VERIFIER.test(params.code_verifier)) {
      throw new OAuthError('invalid_grant', 'code_verifier is required: 43 to 128 characters of [A-Za-z0-9._~-]');
    }
    const challenge = createHash('sha256').update(params.code_verifier).digest();
    const expected = Buffer.from(request.parameters.code_challenge, 'base64url');
    if (challenge.length !== expected.length || !timingSafeEqual(challenge, expected)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    if (!this.deps.canIssueFor(request.did)) throw new OAuthError('invalid_grant', 'This account cannot sign in to apps right now');

    const scope = request.parameters.scope;
    const refresh = ctx.client.grantTypes.has('refresh_token') ? randomToken('ref-') : undefined;
    const expiresAt = sessionExpiry(ctx.clientAuth, now);
    const session: SessionRecord = {
      id: randomToken('ses-', 16),
      did: request.did,
      clientId: ctx.client.clientId,
      clientAuth: ctx.clientAuth,
      dpopJkt: ctx.dpopJkt,
      scope,
      permissions: await this.deps.expandPermissions(scope),
      parameters: request.parameters,
      codeHash,
      refreshHash: refresh === undefined ? null : hashSecret(refresh),
      deviceId: request.deviceId,
      createdAt: now,
      updatedAt: now,
      expiresAt,
      refreshExpiresAt: refreshExpiry(ctx.clientAuth, now, expiresAt),
    };
    await store.createSession(session);
    return this.#respond(session, refresh);
  }

  async refresh(ctx: GrantContext, params: { refresh_token?: string }): Promise<TokenResponse> {
    const { store } = this.deps;
    if (!ctx.client.grantTypes.has('refresh_token')) throw new OAuthError('unauthorized_client', 'This client did not declare the refresh_token grant type');
    if (typeof params.refresh_token !== 'string' || params.refresh_token === '') throw new OAuthError('invalid_request', 'refresh_token is required');
    const oldHash = hashSecret(params.refresh_token);
    const session = await store.findSessionByRefresh(oldHash);
    if (session === undefined) {
      const replayed = await store.findSessionByUsedRefresh(oldHash);
      if (replayed !== undefined) {
        await store.deleteSession(replayed);
        throw new OAuthError('invalid_grant', 'This refresh token was already used: the session has been revoked');
      }
      throw new OAuthError('invalid_grant', 'Unknown or revoked refresh token');
    }
    const now = new Date(this.#now());
    if (session.clientId !== ctx.client.clientId) throw new OAuthError('invalid_grant', 'This refresh token was issued to another client');
    if (!ClientAuthenticator.sameBinding(session.clientAuth, ctx.clientAuth)) {
      throw new OAuthError('invalid_grant', 'The client must authenticate as it did when the session started (same method and key)');
    }
    if (session.dpopJkt !== ctx.dpopJkt) throw new OAuthError('invalid_grant', 'This session is bound to another DPoP key');
    if (session.expiresAt <= now || session.refreshExpiresAt <= now) {
      await store.deleteSession(session.id);
      throw new OAuthError('invalid_grant', 'This session has expired: sign in again');
    }
    if (!this.deps.canIssueFor(session.did)) throw new OAuthError('invalid_grant', 'This account cannot sign in to apps right now');
    const refresh = randomToken('ref-');
    const next = {
      refreshHash: hashSecret(refresh),
      updatedAt: now,
      refreshExpiresAt: refreshExpiry(session.clientAuth, now, session.expiresAt),
      // Permission sets are resolved again: an updated set reaches the session at its next refresh.
      permissions: await this.deps.expandPermissions(session.scope),
    };
    if (!(await store.rotateRefresh(session.id, oldHash, next))) {
      throw new OAuthError('invalid_grant', 'This refresh token was just used by another request');
    }
    return this.#respond({ ...session, ...next }, refresh);
  }

  /**
   * Ends the session a token belongs to (RFC 7009: unknown tokens are not an error). Only the
   * client the session was issued to may revoke it.
   */
  async revoke(client: OAuthClient, token: string | undefined): Promise<void> {
    if (typeof token !== 'string' || token === '') throw new OAuthError('invalid_request', 'token is required');
    const { store } = this.deps;
    let sessionId: string | undefined;
    if (this.deps.accessTokens.isOurs(token)) {
      sessionId = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sid;
    } else {
      sessionId = (await store.findSessionByRefresh(hashSecret(token)))?.id;
    }
    if (sessionId === undefined) return;
    const session = await store.readSession(sessionId);
    if (session !== undefined && session.clientId === client.clientId) await store.deleteSession(session.id);
  }

  /**
   * A confidential client failed to authenticate on a refresh: if the key its session is bound to
   * is gone from its metadata, the session ends (the spec: revoke, and refuse further refreshes).
   */
  async revokeIfClientKeyRemoved(client: OAuthClient, refreshToken: string | undefined, keys: readonly ClientKey[]): Promise<void> {
    if (typeof refreshToken !== 'string' || refreshToken === '') return;
    const session = await this.deps.store.findSessionByRefresh(hashSecret(refreshToken));
    if (session === undefined || session.clientId !== client.clientId || session.clientAuth.method !== 'private_key_jwt') return;
    const bound = session.clientAuth.jkt;
    if (!keys.some((k) => k.key.thumbprint === bound)) await this.deps.store.deleteSession(session.id);
  }

  #respond(session: SessionRecord, refresh: string | undefined): TokenResponse {
    const { token } = this.deps.accessTokens.issue({ sub: session.did, client_id: session.clientId, scope: session.scope, sid: session.id, jkt: session.dpopJkt });
    const response: TokenResponse = { access_token: token, token_type: 'DPoP', expires_in: ACCESS_TOKEN_TTL_S, scope: session.scope, sub: session.did };
    if (refresh !== undefined) response.refresh_token = refresh;
    return response;
  }
}
