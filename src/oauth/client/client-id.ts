// What a `client_id` is (atproto OAuth, "Clients"): the https URL of the client's metadata
// document, or, for development, `http://localhost` with the client's redirect URIs and scope in
// its query (a public client whose metadata is implied).
import { InvalidClientMetadataError } from '../errors.ts';

export const LOOPBACK_CLIENT_ORIGIN = 'http://localhost';
const DEFAULT_LOOPBACK_REDIRECTS = ['http://127.0.0.1/', 'http://[::1]/'];
const MAX_CLIENT_ID_LENGTH = 2048;

export type ParsedClientId =
  | { readonly kind: 'discoverable'; readonly url: URL }
  | { readonly kind: 'loopback'; readonly redirectUris: readonly string[]; readonly scope: string };

export interface ClientIdRules {
  /** Development: allow a port in discoverable client ids (the spec forbids one). */
  allowPort: boolean;
}

export function parseClientId(clientId: unknown, rules: ClientIdRules): ParsedClientId {
  if (typeof clientId !== 'string' || clientId === '') throw new InvalidClientMetadataError('client_id is required');
  if (clientId.length > MAX_CLIENT_ID_LENGTH) throw new InvalidClientMetadataError('client_id is too long');
  if (/^http:\/\/localhost([/:?#]|$)/.test(clientId)) return parseLoopbackClientId(clientId);
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw new InvalidClientMetadataError(`client_id "${clientId}" is not a URL`);
  }
  const problem = discoverableProblem(url, clientId, rules);
  if (problem) throw new InvalidClientMetadataError(`client_id "${clientId}" ${problem}`);
  return { kind: 'discoverable', url };
}

function discoverableProblem(url: URL, raw: string, rules: ClientIdRules): string | undefined {
  if (url.protocol !== 'https:') return 'must be an https URL (or http://localhost for development clients)';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.hash || raw.includes('#')) return 'must not contain a fragment';
  if (url.port && !rules.allowPort) return 'must not contain a port';
  if (isIpHost(url.hostname)) return 'must use a domain name, not an IP address';
  if (!url.hostname.includes('.') || url.hostname.endsWith('.local') || url.hostname.endsWith('.localhost')) {
    return 'must use a public domain name';
  }
  if (url.pathname === '/') return 'must have a path (like /oauth-client-metadata.json)';
  if (url.pathname.endsWith('/')) return 'must not end with a slash';
  if (url.href !== raw) return `must be in canonical form ("${url.href}")`;
  return undefined;
}

/** `http://localhost[/][?redirect_uri=...&scope=...]`: no port, no path, loopback redirect URIs only. */
function parseLoopbackClientId(clientId: string): ParsedClientId {
  const fail = (why: string) => new InvalidClientMetadataError(`development client_id "${clientId}" ${why}`);
  if (!clientId.startsWith(LOOPBACK_CLIENT_ORIGIN) || !/^(\/?)(\?|$)/.test(clientId.slice(LOOPBACK_CLIENT_ORIGIN.length))) {
    throw fail('must be http://localhost with no port and no path (redirect_uri and scope go in the query)');
  }
  if (clientId.includes('#')) throw fail('must not contain a fragment');
  const query = clientId.includes('?') ? clientId.slice(clientId.indexOf('?') + 1) : '';
  const redirectUris: string[] = [];
  let scope: string | undefined;
  for (const [name, value] of new URLSearchParams(query)) {
    if (name === 'redirect_uri') {
      const problem = loopbackRedirectProblem(value);
      if (problem) throw fail(`has redirect_uri "${value}" that ${problem}`);
      redirectUris.push(value);
    } else if (name === 'scope') {
      if (scope !== undefined) throw fail('has more than one scope parameter');
      scope = value;
    } else {
      throw fail(`has an unknown query parameter "${name}" (only redirect_uri and scope are allowed)`);
    }
  }
  if (scope !== undefined && !scope.split(' ').includes('atproto')) throw fail('has a scope without "atproto"');
  return { kind: 'loopback', redirectUris: redirectUris.length > 0 ? redirectUris : DEFAULT_LOOPBACK_REDIRECTS, scope: scope ?? 'atproto' };
}

export function loopbackRedirectProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:') return 'must use http';
  if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') return 'must use 127.0.0.1 or [::1] as its host';
  if (url.username || url.password || url.hash) return 'must not contain credentials or a fragment';
  return undefined;
}

export function isIpHost(hostname: string): boolean {
  return hostname.startsWith('[') || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname);
}
