// The resource-server side: a request presenting `Authorization: DPoP <access token>` and a DPoP
// proof. The token's signature is checked once per token (then remembered); everything else is
// checked on every request: expiry, the proof (method, URL, nonce, `ath`, one-time `jti`), that the
// proof's key is the one the token is bound to, and that the session still exists.
import type { IncomingMessage } from 'node:http';
import { DpopError, normalizeHtu, type DpopVerifier } from './dpop/proof.ts';
import { OAuthError } from './errors.ts';
import { GrantedPermissions } from './scope/permissions.ts';
import type { SessionStore } from './store/types.ts';
import { AccessTokenError, type AccessTokens } from './token/access-token.ts';

/** Slash-separated segments of unreserved characters, none empty or starting with a dot (no `.` or `..` to resolve, nothing to escape). */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$/;

export interface OAuthCredentials {
  readonly did: string;
  readonly clientId: string;
  readonly sessionId: string;
  /** The granted scope, as the token response stated it. */
  readonly scope: string;
  readonly permissions: GrantedPermissions;
}

export interface ResourceVerifierDeps {
  accessTokens: AccessTokens;
  dpop: DpopVerifier;
  sessions: Pick<SessionStore, 'readActiveSession'>;
  /** The public origin (PDS_PUBLIC_URL): `htu` is checked against it, never against Host. */
  publicOrigin: string;
  now?: () => number;
}

export class ResourceVerifier {
  readonly #now: () => number;

  /** Whether the public origin is written as the URL parser writes origins. */
  readonly #plainOrigin: boolean;

  constructor(private readonly deps: ResourceVerifierDeps) {
    this.#now = deps.now ?? Date.now;
    this.#plainOrigin = normalizeHtu(`${deps.publicOrigin}/`) === `${deps.publicOrigin}/`;
  }

  /** Throws OAuthError (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`, all 401). */
  async verify(req: IncomingMessage, token: string): Promise<OAuthCredentials> {
    let claims;
    try {
      claims = this.deps.accessTokens.verify(token);
    } catch (err) {
      if (err instanceof AccessTokenError) throw new OAuthError('invalid_token', err.reason === 'expired' ? 'Token expired' : `Invalid token: ${err.message}`, 401);
      throw err;
    }
    let proof;
    try {
      proof = await this.deps.dpop.verify(req.headers.dpop, { htm: req.method ?? 'GET', htu: this.htuOf(req), accessToken: token });
    } catch (err) {
      if (err instanceof DpopError) throw new OAuthError(err.code, err.message, 401);
      throw err;
    }
    if (proof === undefined) throw new OAuthError('invalid_dpop_proof', 'DPoP proof required: this token is bound to a DPoP key', 401);
    if (proof.jkt !== claims.cnf.jkt) throw new OAuthError('invalid_dpop_proof', 'DPoP proof is signed by another key than the one the token is bound to', 401);
    const session = await this.deps.sessions.readActiveSession(claims.sid);
    if (session === undefined || session.did !== claims.sub) throw new OAuthError('invalid_token', 'Token revoked: the session has ended', 401);
    if (session.expiresAt.getTime() <= this.#now()) throw new OAuthError('invalid_token', 'Token expired: the session has ended', 401);
    return { did: claims.sub, clientId: claims.client_id, sessionId: claims.sid, scope: claims.scope, permissions: GrantedPermissions.of(session.permissions) };
  }

  /** The request's URL on the public origin, path only: what a DPoP proof's `htu` must name. */
  htuOf(req: IncomingMessage): string {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const raw = `${this.deps.publicOrigin}${path.startsWith('/') ? path : `/${path}`}`;
    // A plain path (every XRPC one) on a normalized origin is already what the URL parser would make of it.
    if (this.#plainOrigin && PLAIN_PATH.test(path)) return raw;
    return normalizeHtu(raw) ?? raw;
  }
}
