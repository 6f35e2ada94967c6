// Authorization requests, from the push (PAR) to the redirect back to the client: stored when
// pushed, bound to the browser that opens them first, given an account on the sign-in pages, and
// either approved (a single-use code) or denied. They expire when left alone.
import type { ClientAuth } from '../client/client-auth.ts';
import type { OAuthClient } from '../client/client-metadata.ts';
import { OAuthError } from '../errors.ts';
import type { ReplayStore } from '../replay.ts';
import type { OAuthStore, RequestRecord } from '../store/types.ts';
import { AUTHORIZE_INACTIVITY_MS, AUTHORIZE_MAX_MS, CODE_TTL_MS, PAR_TTL_MS } from '../token/lifetimes.ts';
import { hashSecret, randomToken } from '../token/secrets.ts';
import { validateAuthorizationParameters, type AuthorizationParameters } from './parameters.ts';

const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
// Code challenges may not be reused across requests (atproto OAuth, "PKCE"): within a day.
const CHALLENGE_MEMORY_MS = 24 * 60 * 60 * 1000;

export interface RequestServiceDeps {
  store: OAuthStore;
  replay: ReplayStore;
  /** Checks that every `include:` permission set of a scope resolves; throws OAuthError otherwise. */
  checkPermissionSets: (scope: string) => Promise<void>;
  now?: () => number;
}

/** A request cannot go on (expired, unknown, opened elsewhere): shown as a page, never redirected. */
export class RequestNotUsableError extends Error {
  override name = 'RequestNotUsableError';
}

export class RequestService {
  readonly #now: () => number;

  constructor(private readonly deps: RequestServiceDeps) {
    this.#now = deps.now ?? Date.now;
  }

  async push(client: OAuthClient, clientAuth: ClientAuth, dpopJkt: string, input: Record<string, string>): Promise<{ request_uri: string; expires_in: number }> {
    const parameters = validateAuthorizationParameters(input, client);
    if (input.dpop_jkt !== undefined && input.dpop_jkt !== dpopJkt) throw new OAuthError('invalid_request', 'dpop_jkt does not match the DPoP proof\'s key');
    await this.deps.checkPermissionSets(parameters.scope);
    if (!(await this.deps.replay.unique('pkce', parameters.code_challenge, CHALLENGE_MEMORY_MS, dpopJkt))) {
      throw new OAuthError('invalid_request', 'This code_challenge was already used: generate a new PKCE verifier for every request');
    }
    const now = new Date(this.#now());
    await this.deps.store.deleteExpiredRequests(now);
    const id = randomToken('req-', 24);
    await this.deps.store.createRequest({
      id,
      clientId: client.clientId,
      clientAuth,
      parameters,
      dpopJkt,
      deviceId: null,
      did: null,
      codeHash: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + PAR_TTL_MS),
    });
    return { request_uri: REQUEST_URI_PREFIX + id, expires_in: PAR_TTL_MS / 1000 };
  }

  /**
   * The request a browser is working on. The first browser to open it owns it; the expiry moves
   * on with each step (within an hour of the push).
   */
  async open(requestUri: string | undefined, clientId: string | undefined, deviceId: string): Promise<RequestRecord> {
    if (requestUri === undefined || !requestUri.startsWith(REQUEST_URI_PREFIX)) {
      throw new RequestNotUsableError('This app did not push its authorization request first (request_uri is missing). Pushed authorization requests are required; return to the app and try again.');
    }
    const request = await this.deps.store.readRequest(requestUri.slice(REQUEST_URI_PREFIX.length));
    const now = this.#now();
    if (request === undefined || request.expiresAt.getTime() <= now || request.codeHash !== null) {
      throw new RequestNotUsableError('This sign-in request has expired or was already used. Return to the app and start again.');
    }
    if (clientId !== request.clientId) throw new RequestNotUsableError('This sign-in link does not match the app that started it (client_id).');
    if (request.deviceId !== null && request.deviceId !== deviceId) {
      throw new RequestNotUsableError('This sign-in request was opened in another browser. Return to the app and start again here.');
    }
    const expiresAt = new Date(Math.min(now + AUTHORIZE_INACTIVITY_MS, request.createdAt.getTime() + AUTHORIZE_MAX_MS));
    await this.deps.store.updateRequest(request.id, { deviceId, expiresAt });
    return { ...request, deviceId, expiresAt };
  }

  async setAccount(request: RequestRecord, did: string | null): Promise<void> {
    await this.deps.store.updateRequest(request.id, { did });
  }

  /** Approves the request for its account: returns the code the client exchanges for tokens. */
  async approve(request: RequestRecord): Promise<string> {
    const code = randomToken('cod-');
    await this.deps.store.updateRequest(request.id, { codeHash: hashSecret(code), expiresAt: new Date(this.#now() + CODE_TTL_MS) });
    return code;
  }

  async deny(request: RequestRecord): Promise<void> {
    await this.deps.store.deleteRequest(request.id);
  }
}

export type AuthorizationResult = { code: string } | { error: 'access_denied' | 'login_required' | 'consent_required' | 'account_selection_required'; error_description: string };

/** Where the browser goes back to: `state`, `iss` and the code or error, in the query or the fragment. */
export function buildRedirectUrl(params: AuthorizationParameters, issuer: string, result: AuthorizationResult): string {
  const values = new URLSearchParams();
  values.set('iss', issuer);
  values.set('state', params.state);
  if ('code' in result) values.set('code', result.code);
  else {
    values.set('error', result.error);
    values.set('error_description', result.error_description);
  }
  const url = new URL(params.redirect_uri);
  if (params.response_mode === 'fragment') {
    url.hash = values.toString();
  } else {
    for (const [name, value] of values) url.searchParams.set(name, value);
  }
  return url.href;
}
