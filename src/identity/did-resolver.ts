// DID → DID document for the two blessed methods: did:plc through the PLC directory, did:web
// through `https://<host>/.well-known/did.json` (hostname-level only, as atproto requires). Results
// are cached (see ResolverCache), failures for 5 s; callers that just failed to verify a
// signature pass `forceRefresh` to see a key rotation.
import { isValidDid, isValidHandle } from '../syntax/index.ts';
import { guardedFetch, type GuardedFetch } from '../net/guarded-fetch.ts';
import type { SafeResponse } from '../net/safe-fetch.ts';
import { extractAtprotoIdentity, getVerificationKey, parseDidDocument, type AtprotoIdentity, type DidDocument } from './did-document.ts';
import {
  DidNotFoundError,
  DidResolutionError,
  InvalidDidDocumentError,
  InvalidDidError,
  PlcRequestError,
  UnsupportedDidMethodError,
} from './errors.ts';
import type { PlcClient } from './plc-client.ts';
import { isPlcDid } from './plc-hash.ts';
import { hasReservedTld } from './reserved-tlds.ts';
import { ResolverCache, type ResolverCacheOptions } from './resolver-cache.ts';

export interface ResolvedDid {
  document: DidDocument;
  identity: AtprotoIdentity;
}

export interface DidResolverOptions {
  plc: PlcClient;
  /** For did:web (a URL the DID's author controls). Default: the strict guarded fetch. */
  fetch?: GuardedFetch;
  cache?: ResolverCacheOptions;
  /** did:web request timeout. Default 5 s. */
  timeoutMs?: number;
  /**
   * Development only: accept `did:web:localhost%3A<port>` (over http) and `.test` hosts. The
   * fetch must also allow the private network for localhost to be reachable.
   */
  devMode?: boolean;
}

const MAX_DOCUMENT_BYTES = 256 * 1024;

export class DidResolver {
  readonly #plc: PlcClient;
  readonly #fetch: GuardedFetch;
  readonly #timeoutMs: number;
  readonly #devMode: boolean;
  readonly #cache: ResolverCache<ResolvedDid>;

  constructor(options: DidResolverOptions) {
    this.#plc = options.plc;
    this.#fetch = options.fetch ?? guardedFetch;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#devMode = options.devMode ?? false;
    this.#cache = new ResolverCache<ResolvedDid>({
      minRefreshIntervalMs: 1_000,
      evictOn: (err) => err instanceof DidNotFoundError,
      // A DID that does not resolve (a typo in an atproto-proxy header, a dead did:web host) is
      // answered from memory for a few seconds instead of costing every request a lookup.
      failureTtlMs: 5_000,
      cacheFailure: (err) => err instanceof DidNotFoundError || err instanceof DidResolutionError || err instanceof InvalidDidDocumentError,
      ...options.cache,
    });
  }

  /**
   * The DID's document and what atproto reads from it. Throws `InvalidDidError`,
   * `UnsupportedDidMethodError`, `DidNotFoundError` (or its `DidDeactivatedError`),
   * `InvalidDidDocumentError` or `DidResolutionError`.
   */
  async resolve(did: string, opts: { forceRefresh?: boolean } = {}): Promise<ResolvedDid> {
    const load = this.#loaderFor(did);
    return this.#cache.get(did, load, opts);
  }

  async resolveDocument(did: string, opts: { forceRefresh?: boolean } = {}): Promise<DidDocument> {
    return (await this.resolve(did, opts)).document;
  }

  async resolveIdentity(did: string, opts: { forceRefresh?: boolean } = {}): Promise<AtprotoIdentity> {
    return (await this.resolve(did, opts)).identity;
  }

  /**
   * The did:key of the DID's signing key: `#atproto` unless `keyId` names another verification
   * method (e.g. `atproto_label`). Throws `InvalidDidDocumentError` when the document has none.
   */
  async resolveSigningKey(did: string, opts: { forceRefresh?: boolean; keyId?: string } = {}): Promise<string> {
    const resolved = await this.resolve(did, opts);
    const keyId = opts.keyId ?? 'atproto';
    const key = keyId === 'atproto' ? resolved.identity.signingKey : getVerificationKey(resolved.document, keyId);
    if (key === undefined) throw new InvalidDidDocumentError(`${did} has no valid #${keyId} key`);
    return key;
  }

  /** Forgets a DID (e.g. after this PDS changed its document). */
  invalidate(did: string): void {
    this.#cache.delete(did);
  }

  #loaderFor(did: string): () => Promise<ResolvedDid> {
    if (!isValidDid(did)) throw new InvalidDidError(`not a valid DID: ${did.slice(0, 100)}`);
    if (did.startsWith('did:plc:')) {
      if (!isPlcDid(did)) throw new InvalidDidError(`not a valid did:plc: ${did.slice(0, 100)}`);
      return () => this.#resolvePlc(did);
    }
    if (did.startsWith('did:web:')) {
      const url = this.#didWebUrl(did);
      return () => this.#resolveWeb(did, url);
    }
    throw new UnsupportedDidMethodError(`unsupported DID method: ${did.slice(0, did.indexOf(':', 4))}`);
  }

  async #resolvePlc(did: string): Promise<ResolvedDid> {
    let document: DidDocument;
    try {
      document = await this.#plc.getDocument(did);
    } catch (err) {
      if (err instanceof PlcRequestError) throw new DidResolutionError(`could not resolve ${did}: ${err.message}`, { cause: err });
      throw err;
    }
    return { document, identity: extractAtprotoIdentity(document) };
  }

  /** `did:web:host` → `https://host/.well-known/did.json`; refuses paths and, outside dev, ports. */
  #didWebUrl(did: string): string {
    const id = did.slice('did:web:'.length);
    if (id.includes(':')) throw new InvalidDidError('did:web with a path is not supported in atproto');
    // Percent-encoding hex may be either case; the host itself must be lower case.
    const port = /^localhost%3[aA](\d{1,5})$/.exec(id);
    if (port === null && id !== id.toLowerCase()) throw new InvalidDidError('did:web hosts must be lower case');
    if (port !== null) {
      if (!this.#devMode) throw new InvalidDidError('did:web on localhost is for development only');
      return `http://localhost:${port[1]}/.well-known/did.json`;
    }
    if (!isValidHandle(id)) throw new InvalidDidError('did:web must name a DNS hostname');
    if (hasReservedTld(id, { allowTest: this.#devMode })) throw new InvalidDidError(`did:web on a reserved TLD: ${id}`);
    return `https://${id}/.well-known/did.json`;
  }

  async #resolveWeb(did: string, url: string): Promise<ResolvedDid> {
    let res: SafeResponse;
    try {
      res = await this.#fetch(url, { headers: { accept: 'application/did+ld+json, application/json' }, timeoutMs: this.#timeoutMs, maxBytes: MAX_DOCUMENT_BYTES });
    } catch (err) {
      throw new DidResolutionError(`could not resolve ${did}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status === 404 || res.status === 410) throw new DidNotFoundError(`${did} has no DID document`);
    if (res.status !== 200) throw new DidResolutionError(`could not resolve ${did}: the host answered ${res.status}`);
    let body: unknown;
    try {
      body = res.json();
    } catch {
      throw new InvalidDidDocumentError(`the DID document of ${did} is not JSON`);
    }
    const document = parseDidDocument(body, did);
    return { document, identity: extractAtprotoIdentity(document) };
  }
}
