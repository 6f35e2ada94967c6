// Client authentication at the PAR, token and revocation endpoints. Public clients send nothing
// (and must not pretend otherwise); confidential clients send a `private_key_jwt` assertion
// (RFC 7523) signed with a key from their metadata. Each assertion is single-use, and the key that
// signed a session's first assertion must sign all of its later ones (atproto OAuth).
import { OAuthError } from '../errors.ts';
import { JoseError } from '../jose/errors.ts';
import { parseCompactJws, verifyJwsSignature } from '../jose/jws.ts';
import type { ReplayStore } from '../replay.ts';
import type { ClientKey, OAuthClient } from './client-metadata.ts';
import type { ClientRegistry } from './client-registry.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How a client authenticated; stored with requests and sessions to hold later requests to it. */
export type ClientAuth = { readonly method: 'none' } | { readonly method: 'private_key_jwt'; readonly alg: string; readonly kid?: string; readonly jkt: string };

export interface ClientCredentials {
  client_assertion_type?: string;
  client_assertion?: string;
}

// An assertion older than this is refused, and its jti is remembered for as long (plus skew).
const MAX_ASSERTION_AGE_S = 5 * 60;
const CLOCK_SKEW_S = 60;

export class ClientAuthenticator {
  constructor(
    private readonly registry: ClientRegistry,
    private readonly replay: ReplayStore,
    private readonly issuer: string,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(client: OAuthClient, creds: ClientCredentials): Promise<ClientAuth> {
    if (client.authMethod === 'none') {
      if (creds.client_assertion !== undefined || creds.client_assertion_type !== undefined) {
        throw new OAuthError('invalid_client', 'This client is public ("token_endpoint_auth_method": "none"): it must not send a client assertion', 401);
      }
      return { method: 'none' };
    }
    if (creds.client_assertion_type !== JWT_BEARER_ASSERTION || typeof creds.client_assertion !== 'string') {
      throw new OAuthError('invalid_client', `This client authenticates with private_key_jwt: send client_assertion_type=${JWT_BEARER_ASSERTION} and a client_assertion`, 401);
    }
    let jws;
    try {
      jws = parseCompactJws(creds.client_assertion, 16_384);
    } catch (err) {
      throw new OAuthError('invalid_client', `client_assertion: ${(err as Error).message}`, 401);
    }
    if (jws.header.alg !== client.authAlg) {
      throw new OAuthError('invalid_client', `client_assertion must be signed with ${client.authAlg} ("token_endpoint_auth_signing_alg")`, 401);
    }
    const key = await this.#verifyWithClientKeys(client, jws);
    this.#checkClaims(client, jws.payload);
    const jti = jws.payload.jti as string;
    if (!(await this.replay.unique('client-assertion', `${client.clientId} ${jti}`, (MAX_ASSERTION_AGE_S + 2 * CLOCK_SKEW_S) * 1000, client.clientId))) {
      throw new OAuthError('invalid_client', 'client_assertion was already used ("jti" replayed)', 401);
    }
    return { method: 'private_key_jwt', alg: client.authAlg!, kid: key.kid, jkt: key.key.thumbprint };
  }

  /** A later request of a session must authenticate the way its first one did, with the same key. */
  static sameBinding(a: ClientAuth, b: ClientAuth): boolean {
    if (a.method !== b.method) return false;
    if (a.method === 'none' || b.method === 'none') return true;
    return a.alg === b.alg && a.jkt === b.jkt && a.kid === b.kid;
  }

  async #verifyWithClientKeys(client: OAuthClient, jws: ReturnType<typeof parseCompactJws>): Promise<ClientKey> {
    const kid = jws.header.kid;
    const attempt = (keys: readonly ClientKey[]): ClientKey | undefined => {
      const candidates = typeof kid === 'string' ? keys.filter((k) => k.kid === kid) : keys;
      for (const candidate of candidates) {
        try {
          verifyJwsSignature(jws, candidate.key, [client.authAlg!]);
          return candidate;
        } catch (err) {
          if (!(err instanceof JoseError)) throw err;
        }
      }
      return undefined;
    };
    const found = attempt(await this.registry.keys(client));
    if (found) return found;
    // The client may have rotated keys since its jwks_uri was cached: look once more, uncached.
    if (client.jwksUri !== undefined) {
      const fresh = attempt(await this.registry.keys(client, { forceRefresh: true }));
      if (fresh) return fresh;
    }
    throw new OAuthError('invalid_client', 'client_assertion is not signed by any key in the client\'s jwks', 401);
  }

  #checkClaims(client: OAuthClient, claims: Readonly<Record<string, unknown>>): void {
    const fail = (why: string) => new OAuthError('invalid_client', `client_assertion ${why}`, 401);
    if (claims.iss !== client.clientId || claims.sub !== client.clientId) throw fail('must have "iss" and "sub" equal to the client_id');
    const aud = claims.aud;
    if (!(aud === this.issuer || (Array.isArray(aud) && aud.includes(this.issuer)))) throw fail(`must have "aud" equal to the issuer (${this.issuer})`);
    if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > 256) throw fail('must have a unique "jti"');
    const nowS = this.now() / 1000;
    if (typeof claims.iat !== 'number' || claims.iat > nowS + CLOCK_SKEW_S || claims.iat < nowS - MAX_ASSERTION_AGE_S) {
      throw fail(`must have an "iat" within the last ${MAX_ASSERTION_AGE_S / 60} minutes`);
    }
    if (typeof claims.exp !== 'number' || claims.exp < nowS - CLOCK_SKEW_S) throw fail('has expired (or has no "exp")');
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > nowS + CLOCK_SKEW_S)) throw fail('is not valid yet ("nbf")');
  }
}
