// Where clients come from: `http://localhost` development clients are built from their client_id;
// every other client's metadata document (and its `jwks_uri`) is fetched through the guarded
// fetch (no private addresses, size and time limits, no redirects), validated, and cached for a
// few minutes, bounded. A document that has become invalid is dropped from the cache at once.
import { SafeFetchError, type SafeFetch } from '../../net/safe-fetch.ts';
import { ResolverCache } from '../../identity/resolver-cache.ts';
import { InvalidClientMetadataError } from '../errors.ts';
import { importPublicJwk } from '../jose/jwk.ts';
import { parseClientId, type ClientIdRules } from './client-id.ts';
import { loopbackClient, validateClientMetadata, type ClientKey, type OAuthClient } from './client-metadata.ts';

export interface ClientRegistryDeps {
  fetch: SafeFetch;
  rules: ClientIdRules;
  /** Client ids the operator vouches for: their name and logo are shown without an "unverified" mark. */
  trusted: ReadonlySet<string>;
}

const MAX_DOCUMENT_BYTES = 64 * 1024;
const FETCH_TIMEOUT_MS = 5_000;
// Short enough that a confidential client's revoked key stops working soon (spec: "timely").
const CACHE = { freshMs: 5 * 60_000, maxAgeMs: 15 * 60_000, maxEntries: 2_000 };

export class ClientRegistry {
  readonly #clients: ResolverCache<OAuthClient>;
  readonly #jwks: ResolverCache<readonly ClientKey[]>;

  constructor(private readonly deps: ClientRegistryDeps) {
    const evictOn = (err: unknown) => err instanceof InvalidClientMetadataError;
    this.#clients = new ResolverCache({ ...CACHE, evictOn });
    this.#jwks = new ResolverCache({ ...CACHE, evictOn });
  }

  isTrusted(clientId: string): boolean {
    return this.deps.trusted.has(clientId);
  }

  /** The client, validated. Throws InvalidClientMetadataError naming the field and why. */
  async get(clientId: string, opts: { forceRefresh?: boolean } = {}): Promise<OAuthClient> {
    const parsed = parseClientId(clientId, this.deps.rules);
    if (parsed.kind === 'loopback') return loopbackClient(clientId, parsed);
    return this.#clients.get(clientId, async () => validateClientMetadata(clientId, parsed.url, await this.#fetchJson(clientId, 'client metadata document'), this.deps.rules), opts);
  }

  /** The keys a confidential client signs its assertions with: inline `jwks` or its `jwks_uri`. */
  async keys(client: OAuthClient, opts: { forceRefresh?: boolean } = {}): Promise<readonly ClientKey[]> {
    if (client.jwks) return client.jwks;
    const uri = client.jwksUri;
    if (uri === undefined) return [];
    return this.#jwks.get(uri, async () => parseJwksDocument(uri, await this.#fetchJson(uri, 'jwks_uri document')), opts);
  }

  /**
   * Fetches a client's metadata and keys again now, as the cache does every few minutes: after
   * it, a key the client has withdrawn no longer authenticates it.
   */
  async refresh(clientId: string): Promise<OAuthClient> {
    const client = await this.get(clientId, { forceRefresh: true });
    if (client.jwksUri !== undefined) await this.keys(client, { forceRefresh: true });
    return client;
  }

  async #fetchJson(url: string, what: string): Promise<unknown> {
    let res;
    try {
      res = await this.deps.fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        maxBytes: MAX_DOCUMENT_BYTES,
        timeoutMs: FETCH_TIMEOUT_MS,
        connectTimeoutMs: FETCH_TIMEOUT_MS,
      });
    } catch (err) {
      if (err instanceof SafeFetchError) throw new InvalidClientMetadataError(`the ${what} at ${url} could not be fetched: ${err.message}`);
      throw err;
    }
    if (res.status !== 200) throw new InvalidClientMetadataError(`the ${what} at ${url} answered HTTP ${res.status}; it must answer 200 with JSON`);
    const type = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') throw new InvalidClientMetadataError(`the ${what} at ${url} has Content-Type "${type}"; it must be application/json`);
    try {
      return res.json();
    } catch {
      throw new InvalidClientMetadataError(`the ${what} at ${url} is not valid JSON`);
    }
  }
}

function parseJwksDocument(uri: string, doc: unknown): ClientKey[] {
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 16) {
    throw new InvalidClientMetadataError(`the jwks_uri document at ${uri} must be an object with a "keys" array of 1 to 16 keys`);
  }
  return keys.map((jwk, i) => {
    try {
      return { kid: typeof jwk?.kid === 'string' ? jwk.kid : undefined, key: importPublicJwk(jwk) };
    } catch (err) {
      throw new InvalidClientMetadataError(`the jwks_uri document at ${uri}: keys[${i}] ${(err as Error).message}`);
    }
  });
}
