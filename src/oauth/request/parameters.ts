// The parameters of a pushed authorization request (RFC 9126), checked against the client:
// the atproto profile's requirements (PKCE with S256, `state`, a registered redirect URI, the
// `atproto` scope) and a few extensions it allows (`login_hint`, `prompt`).
import type { OAuthClient } from '../client/client-metadata.ts';
import { OAuthError } from '../errors.ts';
import { selectRequestedScopes } from '../scope/requested.ts';

export type Prompt = 'none' | 'login' | 'consent' | 'select_account';

export interface AuthorizationParameters {
  client_id: string;
  redirect_uri: string;
  response_type: 'code';
  response_mode: 'query' | 'fragment';
  /** The requested scopes this server understands, space-separated. */
  scope: string;
  state: string;
  code_challenge: string;
  code_challenge_method: 'S256';
  login_hint?: string;
  prompt?: Prompt;
}

const PROMPTS: readonly string[] = ['none', 'login', 'consent', 'select_account'];
const UNSUPPORTED = ['request', 'request_uri', 'authorization_details', 'claims', 'id_token_hint'];
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function validateAuthorizationParameters(input: Record<string, string>, client: OAuthClient): AuthorizationParameters {
  const fail = (message: string, code: 'invalid_request' | 'invalid_redirect_uri' = 'invalid_request') => new OAuthError(code, message);
  for (const name of UNSUPPORTED) if (input[name] !== undefined) throw fail(`"${name}" is not supported here`);
  if (input.client_id !== client.clientId) throw fail('client_id does not match the authenticated client');
  if (input.response_type !== 'code') throw new OAuthError('invalid_request', 'response_type must be "code"');
  const responseMode = input.response_mode ?? 'query';
  if (responseMode !== 'query' && responseMode !== 'fragment') throw fail('response_mode must be "query" or "fragment"');

  if (input.code_challenge === undefined) throw fail('code_challenge is required (PKCE with S256)');
  if (input.code_challenge_method !== 'S256') throw fail('code_challenge_method must be "S256" ("plain" is not allowed)');
  if (!PKCE_CHALLENGE.test(input.code_challenge)) throw fail('code_challenge must be the base64url SHA-256 of the code verifier (43 characters)');

  if (typeof input.state !== 'string' || input.state === '') throw fail('state is required');
  if (input.state.length > 1024) throw fail('state is too long (1024 characters at most)');

  const redirectUri = input.redirect_uri ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
  if (redirectUri === undefined) throw fail('redirect_uri is required: the client registers more than one', 'invalid_redirect_uri');
  if (!isRegisteredRedirectUri(redirectUri, client.redirectUris)) {
    throw fail(`redirect_uri "${redirectUri}" is not one of the client's registered redirect_uris`, 'invalid_redirect_uri');
  }

  const scope = selectRequestedScopes(input.scope, client);
  const prompt = input.prompt;
  if (prompt !== undefined && !PROMPTS.includes(prompt)) throw fail(`prompt "${prompt}" is not supported (${PROMPTS.join(', ')})`);
  if (prompt === 'none' && client.authMethod === 'none') throw new OAuthError('consent_required', 'public clients cannot sign in silently (prompt=none)');
  const loginHint = input.login_hint?.trim();
  if (loginHint !== undefined && loginHint.length > 256) throw fail('login_hint is too long');

  const params: AuthorizationParameters = {
    client_id: client.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    response_mode: responseMode,
    scope: scope.join(' '),
    state: input.state,
    code_challenge: input.code_challenge,
    code_challenge_method: 'S256',
  };
  if (loginHint) params.login_hint = loginHint;
  if (prompt !== undefined) params.prompt = prompt as Prompt;
  return params;
}

/**
 * Exact match, except loopback redirect URIs (127.0.0.1, [::1]), whose port is chosen when the
 * app starts and is not compared (RFC 8252 §7.3, atproto "Localhost Client Development").
 */
export function isRegisteredRedirectUri(value: string, registered: readonly string[]): boolean {
  if (registered.includes(value)) return true;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]')) return false;
  return registered.some((candidate) => {
    try {
      const r = new URL(candidate);
      return r.protocol === 'http:' && r.hostname === url.hostname && r.pathname === url.pathname && r.search === url.search;
    } catch {
      return false;
    }
  });
}
