// The `service` auth verifier: requests another service makes on behalf of an account, carrying
// a service-auth JWT the account's PDS signed (xrpc spec, "Inter-Service Authentication").
// The token must be addressed to this PDS's DID, bound to the very method called, unexpired,
// unused, and signed by the issuer's current #atproto key.
import type { DidResolver } from '../identity/did-resolver.ts';
import { AuthRequiredError, type AuthVerifier, type RequestInfo } from '../xrpc/index.ts';
import { bearerToken } from './account-auth.ts';
import { JtiReplayGuard, ServiceJwtError, verifyServiceJwt } from './service-jwt.ts';

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
   * Refuses a token's second use (the spec's `jti` nonce). Default: a guard per verifier. Pass
   * `false` only for a deployment whose callers knowingly reuse tokens within their lifetime.
   */
  replayGuard?: JtiReplayGuard | false;
  now?: () => number;
}

/**
 * Error names the verifier answers with (401s), as the official verifier names them; methods
 * behind `service` emit them besides the generic ones.
 */
export const SERVICE_AUTH_ERROR_NAMES = ['BadJwt', 'BadJwtType', 'JwtExpired', 'BadJwtAudience', 'BadJwtLexiconMethod', 'BadJwtSignature'] as const;

export function createServiceAuthVerifier(deps: ServiceAuthVerifierDeps): AuthVerifier<ServiceAuth> {
  // A bare DID is the legacy audience; `#atproto_pds` names the service we are for that DID.
  const audience = [deps.serviceDid, `${deps.serviceDid}#atproto_pds`];
  const replayGuard = deps.replayGuard === false ? undefined : (deps.replayGuard ?? new JtiReplayGuard());
  const resolveKey = (did: string, opts: { forceRefresh: boolean; keyId: string }) => deps.dids.resolveSigningKey(did, opts);

  return async (info: RequestInfo): Promise<ServiceAuth> => {
    const token = bearerToken(info);
    try {
      const verified = await verifyServiceJwt(token, { audience, lxm: info.nsid, resolveKey, replayGuard, now: deps.now });
      return { type: 'service', did: verified.did, aud: verified.payload.aud, lxm: info.nsid, keyId: verified.keyId };
    } catch (err) {
      if (err instanceof ServiceJwtError) throw new AuthRequiredError(err.message, err.reason);
      throw err;
    }
  };
}
