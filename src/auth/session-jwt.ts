import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Token scopes, as the official PDS names them (clients and AppViews read them). */
export const Scope = {
  Access: 'com.atproto.access',
  AppPass: 'com.atproto.appPass',
  AppPassPrivileged: 'com.atproto.appPassPrivileged',
  Refresh: 'com.atproto.refresh',
  SignupQueued: 'com.atproto.signupQueued',
} as const;
export type AccessScope = typeof Scope.Access | typeof Scope.AppPass | typeof Scope.AppPassPrivileged;

/** Lifetimes of the official PDS: access tokens 2 hours, refresh tokens 90 days. */
export const ACCESS_TOKEN_TTL_MS = 2 * 60 * 60 * 1000;
export const REFRESH_TOKEN_TTL_MS = 90 * 24 * 60 * 60 * 1000;

export interface AccessClaims {
  scope: AccessScope;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  /** Random id of this token. */
  jti: string;
  /**
   * For app-password sessions: the app password's immutable id, checked on every request so
   * revoking it ends the session (and a new app password of the same name does not revive it).
   */
  apid?: string;
  /** Tokens issued before app passwords had ids named them instead: no longer honoured. */
  apn?: string;
}

export interface RefreshClaims {
  scope: typeof Scope.Refresh;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  /**
   * The session family: the id of the refresh token the login issued, carried by every token
   * rotated from it, so a replay of a long-gone token is still known as this session's (theft).
   * Tokens from before families existed have none: their family is their own id.
   */
  fam?: string;
}

/** A token's issue time and id given rather than drawn: re-issuing a session's tokens yields the same ones. */
export interface TokenIdentity {
  iat: number;
  jti: string;
}

export type JwtFailure = 'malformed' | 'bad-signature' | 'expired' | 'wrong-type' | 'wrong-audience';

export class SessionTokenError extends Error {
  constructor(readonly reason: JwtFailure, message: string) {
    super(message);
  }
}

interface VerifiedToken {
  header: { typ?: unknown; alg?: unknown };
  claims: Record<string, unknown>;
}

/**
 * Verified tokens remembered (a client sends the same access token for up to two hours): a
 * repeat skips the HMAC, two base64 decodes and two JSON parses. Only tokens with a valid
 * signature get in, so the cache holds nothing an outsider can forge; expiry, type and audience
 * are still checked on every use.
 */
const VERIFIED_CACHE_SIZE = 4096;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * HS256 session tokens. Access and refresh tokens carry different `typ` headers and scopes,
 * and each verifier checks both, so neither can ever stand in for the other.
 */
export class SessionTokens {
  readonly #key: Buffer;
  /** Tokens whose signature checked out, with their parsed parts; every other check runs on each use. */
  readonly #verified = new Map<string, VerifiedToken>();

  constructor(secret: string, readonly audience: string, readonly now: () => number = Date.now) {
    this.#key = Buffer.from(secret, 'utf8');
  }

  createAccess(did: string, scope: AccessScope, appPasswordId?: string, identity?: TokenIdentity): { token: string; claims: AccessClaims } {
    const iat = identity?.iat ?? Math.floor(this.now() / 1000);
    const jti = identity?.jti ?? randomBytes(12).toString('base64url');
    const claims: AccessClaims = { scope, sub: did, aud: this.audience, iat, exp: iat + ACCESS_TOKEN_TTL_MS / 1000, jti };
    if (appPasswordId !== undefined) claims.apid = appPasswordId;
    return { token: this.#sign('at+jwt', claims), claims };
  }

  createRefresh(did: string, opts: Partial<TokenIdentity> & { family?: string } = {}): { token: string; claims: RefreshClaims } {
    const iat = opts.iat ?? Math.floor(this.now() / 1000);
    const jti = opts.jti ?? randomBytes(24).toString('base64url');
    const claims: RefreshClaims = { scope: Scope.Refresh, sub: did, aud: this.audience, iat, exp: iat + REFRESH_TOKEN_TTL_MS / 1000, jti };
    if (opts.family !== undefined) claims.fam = opts.family;
    return { token: this.#sign('refresh+jwt', claims), claims };
  }

  verifyAccess(token: string): AccessClaims {
    const claims = this.#verify(token, 'at+jwt') as Partial<AccessClaims>;
    if (claims.scope !== Scope.Access && claims.scope !== Scope.AppPass && claims.scope !== Scope.AppPassPrivileged) {
      throw new SessionTokenError('wrong-type', 'Token is not an access token');
    }
    if (claims.apid !== undefined && typeof claims.apid !== 'string') throw new SessionTokenError('malformed', 'Malformed token');
    return claims as AccessClaims;
  }

  verifyRefresh(token: string): RefreshClaims {
    const claims = this.#verify(token, 'refresh+jwt') as Partial<RefreshClaims>;
    if (claims.scope !== Scope.Refresh) throw new SessionTokenError('wrong-type', 'Token is not a refresh token');
    if (typeof claims.jti !== 'string') throw new SessionTokenError('malformed', 'Refresh token has no id');
    if (claims.fam !== undefined && typeof claims.fam !== 'string') throw new SessionTokenError('malformed', 'Malformed token');
    return claims as RefreshClaims;
  }

  #sign(typ: string, claims: object): string {
    const input = `${b64url({ typ, alg: 'HS256' })}.${b64url(claims)}`;
    const sig = createHmac('sha256', this.#key).update(input).digest('base64url');
    return `${input}.${sig}`;
  }

  #verify(token: string, typ: string): Record<string, unknown> {
    let verified = this.#verified.get(token);
    if (verified === undefined) {
      verified = this.#checkSignature(token);
      if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, verified);
    }
    const { header, claims } = verified;
    if (header.alg !== 'HS256') throw new SessionTokenError('malformed', 'Unexpected token algorithm');
    if (header.typ !== typ) throw new SessionTokenError('wrong-type', typ === 'at+jwt' ? 'Token is not an access token' : 'Token is not a refresh token');
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw new SessionTokenError('malformed', 'Malformed token');
    if (claims.aud !== this.audience) throw new SessionTokenError('wrong-audience', 'Token was issued for another service');
    if (claims.exp * 1000 <= this.now()) throw new SessionTokenError('expired', 'Token has expired');
    return claims;
  }

  /** HMAC and JSON of a token, done once per token: what they yield cannot change. */
  #checkSignature(token: string): VerifiedToken {
    const parts = token.split('.');
    if (parts.length !== 3 || token.length > 4096) throw new SessionTokenError('malformed', 'Malformed token');
    const expected = createHmac('sha256', this.#key).update(`${parts[0]}.${parts[1]}`).digest();
    const given = Buffer.from(parts[2], 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new SessionTokenError('bad-signature', 'Token could not be verified');
    }
    let header: { typ?: unknown; alg?: unknown };
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw new SessionTokenError('malformed', 'Malformed token');
    }
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) {
      throw new SessionTokenError('malformed', 'Malformed token');
    }
    // Shared by every later request with this token: nobody may change them.
    return { header: Object.freeze(header), claims: Object.freeze(claims) };
  }
}
