// OAuth access tokens at the XRPC surface: `Authorization: DPoP <token>` plus a DPoP proof, checked
// by the OAuth resource verifier, then the account's status, as for a session. What the grant
// allows is checked per method (`oauth` rules in the method definitions, see api/oauth-rules.ts).
import type { AccountStore } from '../accounts/account-store.ts';
import { OAuthError } from '../oauth/errors.ts';
import { DPOP_ALGS } from '../oauth/dpop/proof.ts';
import { ReplayQuotaError, ReplayStoreFullError } from '../oauth/replay.ts';
import type { ResourceVerifier } from '../oauth/resource.ts';
import type { AccessTokens } from '../oauth/token/access-token.ts';
import { NotEnoughResourcesError, RateLimitExceededError, XrpcError, type RequestInfo } from '../xrpc/index.ts';
import type { AccessAuth, AuthState } from './types.ts';

export interface OAuthAccessDeps {
  resource: ResourceVerifier;
  accessTokens: AccessTokens;
  accounts: Pick<AccountStore, 'stateByDid'>;
}

const ALGS = DPOP_ALGS.join(' ');

export function createOAuthAccessVerifier(deps: OAuthAccessDeps) {
  return {
    async verify(info: RequestInfo, token: string): Promise<AccessAuth> {
      let credentials;
      try {
        credentials = await deps.resource.verify(info.req, token);
      } catch (err) {
        if (err instanceof OAuthError) throw dpopChallenge(err.code, err.message);
        // The memory of used DPoP proofs is bounded: a client that fills its share waits, and a full
        // store turns everyone away for a moment rather than forget a proof (which would allow a replay).
        if (err instanceof ReplayQuotaError) throw new RateLimitExceededError('Too many requests with this DPoP key; slow down', { 'Retry-After': '60' });
        if (err instanceof ReplayStoreFullError) throw new NotEnoughResourcesError('Too many requests in flight; try again shortly');
        throw err;
      }
      const state = deps.accounts.stateByDid(credentials.did);
      if (!state) throw dpopChallenge('invalid_token', 'The account of this token does not exist');
      // A taken-down account may only leave, with its password (createSession allowTakendown): never through an app.
      if (state === 'takendown') throw new XrpcError(401, 'AccountTakedown', 'Account has been taken down');
      return { type: 'access', did: credentials.did, scope: 'oauth', full: false, privileged: false, state, oauth: credentials };
    },
    /** A token we issued as an OAuth access token, sent as a plain Bearer: refused, saying why. */
    refuseBearer(token: string): void {
      if (deps.accessTokens.isOurs(token)) {
        throw dpopChallenge('invalid_token', 'This access token is bound to a DPoP key: send it as "Authorization: DPoP <token>" with a DPoP proof, not as a Bearer token');
      }
    },
  };
}

/** 401 with the RFC 9449 challenge the official OAuth client reacts to (new nonce, refresh). */
function dpopChallenge(error: string, message: string): XrpcError {
  const description = message.replace(/["\\]/g, '');
  const header = `DPoP algs="${ALGS}", error="${error}", error_description="${description}"`;
  return new XrpcError(401, error, message, { 'WWW-Authenticate': header });
}

/**
 * May this caller have the PDS call `lxm` on service `aud` (`did#service_id`) in its name? Sessions
 * are not concerned (their rules are the verifier's and the account policy's); an OAuth grant needs
 * `rpc:<lxm>?aud=<aud>` or a wider permission. Throws ScopeMissingError naming the missing scope
 * (the API layer answers it 403). Used by service proxying and getServiceAuth.
 */
export function assertRpcScope(auth: AuthState, lxm: string, aud: string): void {
  if (auth.type === 'access' && auth.oauth !== undefined) auth.oauth.permissions.assertRpc({ lxm: lxm as `${string}.${string}.${string}`, aud: aud as `did:${string}#${string}` });
}
