// Handle → DID, by the two methods of the handle spec: a DNS TXT record `_atproto.<handle>` holding
// `did=<did>`, and `https://<handle>/.well-known/atproto-did` answering the DID as text. Both run
// at once; DNS wins when both answer (the spec prefers it when they disagree). A handle that
// resolves is only *claimed*: see verify-handle.ts for the check that the DID claims it back.
import { Resolver } from 'node:dns/promises';
import { guardedFetch, type GuardedFetch } from '../net/guarded-fetch.ts';
import { isValidDid, isValidHandle } from '../syntax/index.ts';
import { InvalidHandleError } from './errors.ts';
import { hasReservedTld } from './reserved-tlds.ts';
import { ResolverCache, type ResolverCacheOptions } from './resolver-cache.ts';

/** Looks up TXT records: one string array (the record's chunks) per record, as node:dns returns. */
export type TxtResolver = (name: string) => Promise<string[][]>;

export interface HandleResolverOptions {
  resolveTxt?: TxtResolver;
  /** For the well-known (a URL the handle's owner controls). Default: the strict guarded fetch. */
  fetch?: GuardedFetch;
  /** Upstream DNS servers (e.g. a recursive resolver); default: the system's. */
  dnsServers?: string[];
  /** Default 3 s for each method. */
  dnsTimeoutMs?: number;
  httpTimeoutMs?: number;
  /** Where the well-known lives; default `https://<handle>/.well-known/atproto-did`. */
  wellKnownUrl?: (handle: string) => string;
  /** Development only: resolve `.test` handles. */
  devMode?: boolean;
  /** Successful resolutions are cached; default 10 minutes fresh, 1 hour at most. */
  cache?: ResolverCacheOptions;
}

const DNS_PREFIX = 'did=';
// A DID is at most 2048 characters; anything much longer is not an atproto-did answer.
const MAX_WELL_KNOWN_BYTES = 4096;

export class HandleResolver {
  readonly #resolveTxt: TxtResolver;
  readonly #fetch: GuardedFetch;
  readonly #dnsTimeoutMs: number;
  readonly #httpTimeoutMs: number;
  readonly #wellKnownUrl: (handle: string) => string;
  readonly #devMode: boolean;
  readonly #cache: ResolverCache<string>;

  constructor(options: HandleResolverOptions = {}) {
    this.#dnsTimeoutMs = options.dnsTimeoutMs ?? 3_000;
    this.#httpTimeoutMs = options.httpTimeoutMs ?? 3_000;
    this.#resolveTxt = options.resolveTxt ?? systemTxtResolver(this.#dnsTimeoutMs, options.dnsServers);
    this.#fetch = options.fetch ?? guardedFetch;
    this.#wellKnownUrl = options.wellKnownUrl ?? ((handle) => `https://${handle}/.well-known/atproto-did`);
    this.#devMode = options.devMode ?? false;
    this.#cache = new ResolverCache<string>({ freshMs: 10 * 60 * 1000, maxAgeMs: 60 * 60 * 1000, ...options.cache });
  }

  /**
   * The DID the handle points at, or undefined when neither method yields exactly one valid DID
   * (or the handle is on a reserved TLD). Throws `InvalidHandleError` for bad syntax only.
   */
  async resolve(handle: string, opts: { forceRefresh?: boolean } = {}): Promise<string | undefined> {
    const normalized = this.#check(handle);
    if (normalized === undefined) return undefined;
    try {
      return await this.#cache.get(normalized, () => this.#resolveUncached(normalized), opts);
    } catch (err) {
      if (err instanceof NotResolved) return undefined;
      throw err;
    }
  }

  /** The DNS TXT method alone. */
  async resolveDns(handle: string): Promise<string | undefined> {
    const normalized = this.#check(handle);
    return normalized === undefined ? undefined : this.#dns(normalized);
  }

  /** The HTTPS well-known method alone. */
  async resolveHttp(handle: string): Promise<string | undefined> {
    const normalized = this.#check(handle);
    return normalized === undefined ? undefined : this.#http(normalized);
  }

  invalidate(handle: string): void {
    this.#cache.delete(handle.toLowerCase());
  }

  #check(handle: string): string | undefined {
    if (typeof handle !== 'string' || !isValidHandle(handle)) throw new InvalidHandleError(`not a valid handle: ${String(handle).slice(0, 100)}`);
    const normalized = handle.toLowerCase();
    return hasReservedTld(normalized, { allowTest: this.#devMode }) ? undefined : normalized;
  }

  async #resolveUncached(handle: string): Promise<string> {
    const controller = new AbortController();
    const http = this.#http(handle, controller.signal);
    http.catch(() => {});
    const viaDns = await this.#dns(handle);
    if (viaDns !== undefined) {
      controller.abort();
      return viaDns;
    }
    const viaHttp = await http;
    if (viaHttp === undefined) throw new NotResolved();
    return viaHttp;
  }

  async #dns(handle: string): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const records = await Promise.race([
        this.#resolveTxt(`_atproto.${handle}`),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('DNS timeout')), this.#dnsTimeoutMs);
        }),
      ]);
      return didFromTxtRecords(records);
    } catch {
      // NXDOMAIN, no TXT records, SERVFAIL and timeouts all mean "not resolved by DNS".
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  async #http(handle: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const res = await this.#fetch(this.#wellKnownUrl(handle), {
        headers: { accept: 'text/plain' },
        timeoutMs: this.#httpTimeoutMs,
        maxBytes: MAX_WELL_KNOWN_BYTES,
        maxRedirects: 3,
        signal,
      });
      if (res.status < 200 || res.status > 299) return undefined;
      return didFromWellKnown(res.text());
    } catch {
      return undefined;
    }
  }
}

class NotResolved extends Error {}

/**
 * The DID from `_atproto` TXT records: records not starting with `did=` are ignored, and exactly
 * one `did=` record holding a valid DID must remain (several mean the handle is ambiguous).
 */
export function didFromTxtRecords(records: string[][]): string | undefined {
  let found: string | undefined;
  let count = 0;
  for (const chunks of records) {
    // A TXT record longer than 255 bytes arrives in chunks that form one value.
    const value = chunks.join('');
    if (!value.startsWith(DNS_PREFIX)) continue;
    count++;
    found = value.slice(DNS_PREFIX.length).trim();
  }
  return count === 1 && found !== undefined && isValidDid(found) ? found : undefined;
}

/** The DID from a well-known body: its first line, trimmed, which must be a valid DID. */
export function didFromWellKnown(body: string): string | undefined {
  const line = body.trim().split(/\r?\n/, 1)[0].trim();
  return isValidDid(line) ? line : undefined;
}

export function systemTxtResolver(timeoutMs: number, servers?: string[]): TxtResolver {
  // node:dns's Resolver takes a per-try timeout; two tries fit in the overall budget.
  const resolver = new Resolver({ timeout: Math.max(500, Math.floor(timeoutMs / 2)), tries: 2 });
  if (servers !== undefined && servers.length > 0) resolver.setServers(servers);
  return (name) => resolver.resolveTxt(name);
}
