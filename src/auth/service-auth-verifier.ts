// The `service` auth verifier: requests another service makes on behalf of an account, carrying
// a service-auth JWT the account's PDS signed (xrpc spec, "Inter-Service Authentication").
// The token must be addressed to this PDS's DID, bound to the very method called, unexpired,
// unused, and signed by the issuer's current #atproto key.
import type { DidResolver } from '../identity/did-resolver.ts';
import { AuthRequiredError, NotEnoughResourcesError, RateLimitExceededError, type AuthVerifier, type RequestInfo, type XrpcError } from '../xrpc/index.ts';
import { bearerToken } from './account-auth.ts';
import { ServiceJwtReplayGuard } from './service-jwt-replay.ts';
import { SERVICE_JWT_FAILURES, ServiceJwtBusyError, ServiceJwtError, verifyServiceJwt } from './service-jwt.ts';

/** Who is calling: an account, through a service that holds a token it signed. */
export interface ServiceAuth {
  readonly type: 'service';
  /** The account the request is made for (`iss`, without any fragment). */
  readonly did: string;
  /** The audience the token named (this PDS's DID, possibly with `#atproto_pds`). */
  readonly aud: string;
  /** The method the token is bound to: always the one being called. */
  readonly lxm: string;
  /** The verification method that signed it (`atproto`). */
  readonly keyId: string;
}

export interface ServiceAuthVerifierDeps {
  /** This PDS's DID (`config.service.did`). */
  serviceDid: string;
  dids: Pick<DidResolver, 'resolveSigningKey'>;
  /**
   * Refuses a token's second use (by its `jti` nonce, or its content without one). Default: a
   * guard per verifier. Pass `false` only for a bench.
   */
  replayGuard?: ServiceJwtReplayGuard | false;
  now?: () => number;
}

/**
 * Error names the verifier answers with (401s), as the official verifier names them (`BadJwt`,
 * `BadJwtType`, `JwtExpired`, `BadJwtAudience`, `BadJwtLexiconMethod`, `BadJwtIss`,
 * `BadJwtSignature`); every method may emit them (they are generic error names).
 */
export const SERVICE_AUTH_ERROR_NAMES = SERVICE_JWT_FAILURES;

/**
 * Audiences that name this PDS: its bare DID (what most callers send, and what the official PDS
 * expects for `createAccount` during migration) and the DID with `#atproto_pds`.
 */
export function serviceAudiences(serviceDid: string): string[] {
  return [serviceDid, `${serviceDid}#atproto_pds`];
}

/** A service-token refusal as XRPC: 401 with the official name, or 429/503 when the guard is full. */
export function serviceAuthXrpcError(err: unknown): XrpcError | undefined {
  if (err instanceof ServiceJwtError) return new AuthRequiredError(err.message, err.reason);
  if (err instanceof ServiceJwtBusyError) {
    return err.scope === 'issuer' ? new RateLimitExceededError(err.message, { 'Retry-After': '60' }) : new NotEnoughResourcesError(err.message);
  }
  return undefined;
}

export function createServiceAuthVerifier(deps: ServiceAuthVerifierDeps): AuthVerifier<ServiceAuth> {
  const audience = serviceAudiences(deps.serviceDid);
  const replayGuard = deps.replayGuard === false ? undefined : (deps.replayGuard ?? new ServiceJwtReplayGuard({ now: deps.now }));
  const resolveKey = (did: string, opts: { forceRefresh: boolean; keyId: string }) => deps.dids.resolveSigningKey(did, opts);

  return async (info: RequestInfo): Promise<ServiceAuth> => {
    const token = bearerToken(info);
    try {
      const verified = await verifyServiceJwt(token, { audience, lxm: info.nsid, resolveKey, replayGuard, now: deps.now });
      return { type: 'service', did: verified.did, aud: verified.payload.aud, lxm: info.nsid, keyId: verified.keyId };
    } catch (err) {
      throw serviceAuthXrpcError(err) ?? err;
    }
  };
}
