// Client metadata documents (atproto OAuth, "Client ID Metadata Document"), validated strictly:
// every refusal names the field and says why, so a developer can fix their document. Scopes the
// server does not understand are kept (and ignored when requested), so a client declaring a
// permission from a newer spec still signs in.
import { InvalidClientMetadataError } from '../errors.ts';
import { importPublicJwk, type ImportedKey } from '../jose/jwk.ts';
import { SUPPORTED_JWS_ALGS } from '../jose/jws.ts';
import { isIpHost, loopbackRedirectProblem, type ClientIdRules, type ParsedClientId } from './client-id.ts';

export type ClientAuthMethod = 'none' | 'private_key_jwt';

/** A client as the server uses it: validated metadata, keys imported. */
export interface OAuthClient {
  readonly clientId: string;
  /** `loopback`: an `http://localhost` development client (metadata implied by the client_id). */
  readonly kind: 'discoverable' | 'loopback';
  readonly applicationType: 'web' | 'native';
  readonly redirectUris: readonly string[];
  /** Every scope value the metadata declares. */
  readonly scopes: ReadonlySet<string>;
  readonly grantTypes: ReadonlySet<string>;
  readonly authMethod: ClientAuthMethod;
  readonly authAlg?: string;
  /** Inline keys (`jwks`); `jwksUri` keys are fetched separately. */
  readonly jwks?: readonly ClientKey[];
  readonly jwksUri?: string;
  readonly name?: string;
  readonly uri?: string;
  readonly logoUri?: string;
  readonly tosUri?: string;
  readonly policyUri?: string;
}

export interface ClientKey {
  readonly kid?: string;
  readonly key: ImportedKey;
}

const MAX_NAME_LENGTH = 200;
const MAX_KEYS = 16;

/** The implied metadata of an `http://localhost` development client. */
export function loopbackClient(clientId: string, parsed: Extract<ParsedClientId, { kind: 'loopback' }>): OAuthClient {
  return {
    clientId,
    kind: 'loopback',
    applicationType: 'native',
    redirectUris: parsed.redirectUris,
    scopes: new Set(parsed.scope.split(' ').filter((s) => s !== '')),
    grantTypes: new Set(['authorization_code', 'refresh_token']),
    authMethod: 'none',
    name: 'Development client',
  };
}

/** Validates a fetched metadata document for `clientId` (already parsed as discoverable). */
export function validateClientMetadata(clientId: string, idUrl: URL, doc: unknown, rules: ClientIdRules): OAuthClient {
  const fail = (field: string, why: string) => new InvalidClientMetadataError(`client metadata of ${clientId}: ${field} ${why}`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fail('document', 'must be a JSON object');
  const m = doc as Record<string, unknown>;

  if (m.client_id !== clientId) throw fail('"client_id"', `must be exactly the URL it is served from (${clientId})`);
  const applicationType = m.application_type ?? 'web';
  if (applicationType !== 'web' && applicationType !== 'native') throw fail('"application_type"', 'must be "web" or "native"');

  const grantTypes = stringArray(m.grant_types, '"grant_types"', fail);
  for (const grant of grantTypes) {
    if (grant !== 'authorization_code' && grant !== 'refresh_token') throw fail('"grant_types"', `has "${grant}", which this server does not support (only authorization_code and refresh_token)`);
  }
  if (!grantTypes.includes('authorization_code')) throw fail('"grant_types"', 'must include "authorization_code"');

  const responseTypes = stringArray(m.response_types, '"response_types"', fail);
  if (!responseTypes.includes('code')) throw fail('"response_types"', 'must include "code"');
  for (const type of responseTypes) if (type !== 'code') throw fail('"response_types"', `has "${type}": only "code" is supported`);

  if (typeof m.scope !== 'string' || m.scope.trim() === '') throw fail('"scope"', 'is required: a space-separated string that includes "atproto"');
  const scopeList = m.scope.split(' ').filter((s) => s !== '');
  if (!scopeList.includes('atproto')) throw fail('"scope"', 'must include "atproto"');
  const duplicate = scopeList.find((s, i) => scopeList.indexOf(s) !== i);
  if (duplicate) throw fail('"scope"', `lists "${duplicate}" twice`);

  if (m.dpop_bound_access_tokens !== true) throw fail('"dpop_bound_access_tokens"', 'must be true (atproto requires DPoP)');

  const authMethod = m.token_endpoint_auth_method ?? 'none';
  if (authMethod !== 'none' && authMethod !== 'private_key_jwt') {
    throw fail('"token_endpoint_auth_method"', `"${String(authMethod)}" is not supported (use "none" for public clients, "private_key_jwt" for confidential ones)`);
  }
  const authAlg = m.token_endpoint_auth_signing_alg;
  let jwks: ClientKey[] | undefined;
  let jwksUri: string | undefined;
  if (authMethod === 'private_key_jwt') {
    if (applicationType === 'native') throw fail('"token_endpoint_auth_method"', 'must be "none" for native apps (they cannot keep a key secret)');
    if (typeof authAlg !== 'string' || !SUPPORTED_JWS_ALGS.includes(authAlg)) {
      throw fail('"token_endpoint_auth_signing_alg"', `is required for private_key_jwt and must be one of ${SUPPORTED_JWS_ALGS.join(', ')}`);
    }
    if (m.jwks !== undefined && m.jwks_uri !== undefined) throw fail('"jwks" and "jwks_uri"', 'are mutually exclusive: give one');
    if (m.jwks !== undefined) jwks = parseJwks(m.jwks, fail);
    else if (m.jwks_uri !== undefined) jwksUri = httpsUrl(m.jwks_uri, '"jwks_uri"', fail, rules);
    else throw fail('"jwks"', 'or "jwks_uri" is required for private_key_jwt');
  } else if (authAlg !== undefined) {
    throw fail('"token_endpoint_auth_signing_alg"', 'must not be set when "token_endpoint_auth_method" is "none"');
  }

  const redirectUris = stringArray(m.redirect_uris, '"redirect_uris"', fail);
  redirectUris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri, applicationType, idUrl);
    if (problem) throw fail(`"redirect_uris"[${i}]`, `"${uri}" ${problem}`);
  });

  const uri = m.client_uri === undefined ? undefined : httpsUrl(m.client_uri, '"client_uri"', fail, rules);
  if (uri !== undefined && new URL(uri).hostname !== idUrl.hostname) throw fail('"client_uri"', `must be on the same host as the client_id (${idUrl.hostname})`);
  const name = m.client_name === undefined ? undefined : typeof m.client_name === 'string' ? m.client_name.trim().slice(0, MAX_NAME_LENGTH) : undefined;
  if (m.client_name !== undefined && typeof m.client_name !== 'string') throw fail('"client_name"', 'must be a string');

  return {
    clientId,
    kind: 'discoverable',
    applicationType,
    redirectUris,
    scopes: new Set(scopeList),
    grantTypes: new Set(grantTypes),
    authMethod,
    authAlg: authMethod === 'private_key_jwt' ? (authAlg as string) : undefined,
    jwks,
    jwksUri,
    name: name || undefined,
    uri,
    logoUri: m.logo_uri === undefined ? undefined : httpsUrl(m.logo_uri, '"logo_uri"', fail, rules),
    tosUri: m.tos_uri === undefined ? undefined : httpsUrl(m.tos_uri, '"tos_uri"', fail, rules),
    policyUri: m.policy_uri === undefined ? undefined : httpsUrl(m.policy_uri, '"policy_uri"', fail, rules),
  };
}

/**
 * Why a redirect URI may not be registered, or undefined. Web apps: https. Native apps: loopback
 * http (127.0.0.1 or [::1]), https on the client_id's own origin, or a private-use scheme that is
 * the client_id's host reversed (`com.example.app:/callback`).
 */
export function redirectUriProblem(value: string, applicationType: 'web' | 'native', idUrl: URL): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  if (url.hash) return 'must not contain a fragment';
  if (url.hostname === 'localhost') return 'uses "localhost": use the loopback address 127.0.0.1 or [::1] instead';
  if (url.protocol === 'http:') {
    if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') return 'uses http, which only loopback redirect URIs (127.0.0.1, [::1]) may use';
    if (applicationType !== 'native') return 'is a loopback URI, which only native apps ("application_type": "native") may use';
    return loopbackRedirectProblem(value);
  }
  if (url.protocol === 'https:') {
    if (isIpHost(url.hostname) || !url.hostname.includes('.') || url.hostname.endsWith('.local') || url.hostname.endsWith('.localhost')) {
      return 'must use a public domain name';
    }
    if (applicationType === 'native' && url.origin !== idUrl.origin) return `must be on the client_id's origin (${idUrl.origin}) for a native app`;
    return undefined;
  }
  if (!url.protocol.slice(0, -1).includes('.')) return `uses the scheme "${url.protocol}", which is not allowed`;
  if (applicationType !== 'native') return 'uses a private-use scheme, which only native apps may use';
  const expected = `${idUrl.hostname.split('.').reverse().join('.')}:`;
  if (url.protocol !== expected) return `must use the scheme "${expected}" (the client_id's host, reversed)`;
  if (!value.startsWith(`${expected}/`) || value.startsWith(`${expected}//`)) return `must have the form ${expected}/path (one slash)`;
  return undefined;
}

type Fail = (field: string, why: string) => InvalidClientMetadataError;

function stringArray(value: unknown, field: string, fail: Fail): string[] {
  if (!Array.isArray(value) || value.length === 0) throw fail(field, 'must be a non-empty array of strings');
  for (const item of value) if (typeof item !== 'string' || item === '') throw fail(field, 'must contain only non-empty strings');
  if (new Set(value).size !== value.length) throw fail(field, 'must not repeat a value');
  return value as string[];
}

function httpsUrl(value: unknown, field: string, fail: Fail, rules: ClientIdRules): string {
  if (typeof value !== 'string') throw fail(field, 'must be a string URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail(field, `"${value}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw fail(field, `"${value}" must be an https URL`);
  if (url.username || url.password) throw fail(field, 'must not contain credentials');
  if (url.port && !rules.allowPort && field === '"jwks_uri"') throw fail(field, 'must not contain a port');
  return url.href;
}

function parseJwks(value: unknown, fail: Fail): ClientKey[] {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof value !== 'object' || value === null || !Array.isArray(keys)) throw fail('"jwks"', 'must be an object with a "keys" array');
  if (keys.length === 0) throw fail('"jwks"', 'must contain at least one key');
  if (keys.length > MAX_KEYS) throw fail('"jwks"', `may contain at most ${MAX_KEYS} keys`);
  return keys.map((jwk, i) => {
    try {
      return { kid: typeof jwk?.kid === 'string' ? jwk.kid : undefined, key: importPublicJwk(jwk) };
    } catch (err) {
      throw fail(`"jwks".keys[${i}]`, (err as Error).message);
    }
  });
}
