// OAuth access tokens: `at+jwt` (RFC 9068) signed with HMAC-SHA256 under a key of their own
// (derived from the server secret, so no session token can pass for one, nor the reverse). This
// server is both the authorization and the resource server, so nobody else needs to verify them.
// They are bound to the client's DPoP key (`cnf.jkt`) and name their session (`sid`), which is
// looked up on every request so that revoking a session ends its access tokens at once.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const ACCESS_TOKEN_TTL_S = 15 * 60;

export interface AccessTokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly client_id: string;
  readonly scope: string;
  readonly sid: string;
  readonly cnf: { readonly jkt: string };
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

export class AccessTokenError extends Error {
  override name = 'AccessTokenError';
  constructor(
    readonly reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-audience',
    message: string,
  ) {
    super(message);
  }
}

const CACHE_SIZE = 4096;
const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const HEADER = b64json({ typ: 'at+jwt', alg: 'HS256' });

export class AccessTokens {
  /** Tokens whose signature checked out: a client sends one for up to 15 minutes. */
  readonly #verified = new Map<string, AccessTokenClaims>();

  constructor(
    private readonly key: Buffer,
    private readonly issuer: string,
    private readonly audience: string,
    private readonly now: () => number = Date.now,
  ) {}

  issue(fields: Pick<AccessTokenClaims, 'sub' | 'client_id' | 'scope' | 'sid'> & { jkt: string }): { token: string; claims: AccessTokenClaims } {
    const iat = Math.floor(this.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.issuer,
      aud: this.audience,
      sub: fields.sub,
      client_id: fields.client_id,
      scope: fields.scope,
      sid: fields.sid,
      cnf: { jkt: fields.jkt },
      iat,
      exp: iat + ACCESS_TOKEN_TTL_S,
      jti: randomBytes(12).toString('base64url'),
    };
    const input = `${HEADER}.${b64json(claims)}`;
    return { token: `${input}.${this.#mac(input).toString('base64url')}`, claims };
  }

  /** Verifies signature (once per token), issuer, audience and expiry (every time). */
  verify(token: string): AccessTokenClaims {
    let claims = this.#verified.get(token);
    if (claims === undefined) {
      claims = this.#check(token);
      if (this.#verified.size >= CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, claims);
    }
    if (claims.iss !== this.issuer || claims.aud !== this.audience) throw new AccessTokenError('wrong-audience', 'access token was issued for another server');
    if (claims.exp * 1000 <= this.now()) throw new AccessTokenError('expired', 'access token has expired');
    return claims;
  }

  /** Whether a token was signed by this server as an OAuth access token (whatever its state). */
  isOurs(token: string): boolean {
    try {
      this.#check(token);
      return true;
    } catch {
      return false;
    }
  }

  #mac(input: string): Buffer {
    return createHmac('sha256', this.key).update(input).digest();
  }

  #check(token: string): AccessTokenClaims {
    if (typeof token !== 'string' || token.length > 8192) throw new AccessTokenError('malformed', 'malformed access token');
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== HEADER) throw new AccessTokenError('malformed', 'malformed access token');
    const given = Buffer.from(parts[2], 'base64url');
    const expected = this.#mac(`${parts[0]}.${parts[1]}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AccessTokenError('bad-signature', 'access token could not be verified');
    let claims: AccessTokenClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw new AccessTokenError('malformed', 'malformed access token');
    }
    if (typeof claims?.sub !== 'string' || typeof claims.sid !== 'string' || typeof claims.exp !== 'number' || typeof claims.cnf?.jkt !== 'string') {
      throw new AccessTokenError('malformed', 'malformed access token');
    }
    return Object.freeze({ ...claims, cnf: Object.freeze({ ...claims.cnf }) });
  }
}
