// The engine of outbound HTTP. Callers do not use it directly but one of the two doors built on
// it, so that each call site says whom it trusts:
//   guarded-fetch.ts  URLs that users or DID documents control (handles, did:web, service
//                     endpoints): public addresses only.
//   trusted-fetch.ts  URLs the operator configured (PLC directory, crawlers): any address, but
//                     only those origins.
// Each hop is checked before any byte leaves: http/https only, the host resolved first and every
// address it resolves to classified, and the socket pinned to the address that was checked (the
// resolver is not asked twice, so a DNS answer cannot change between the check and the connect).
// Redirects are followed by hand through the same checks. Time and size are bounded.
import type http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction, Socket } from 'node:net';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { AgentPool, requestFn } from './agent-pool.ts';
import { ForbiddenAddressError, SafeFetchError } from './errors.ts';
import { classifyIp, type AddressClass } from './ip-address.ts';

export { ForbiddenAddressError, SafeFetchError, type SafeFetchFailure } from './errors.ts';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses. Injectable so tests can map names to 127.0.0.1. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface SafeFetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Allow loopback, private, link-local and other non-public addresses (tests, a local PLC). */
  allowPrivateNetwork?: boolean;
  /**
   * Finer than `allowPrivateNetwork`: lets one non-public address through for one host (say, a
   * PLC mirror on the operator's LAN). Connections made under it are not pooled.
   */
  allowAddress?: (address: string, addressClass: AddressClass, hostname: string) => boolean;
  /** When given, every hop (redirects included) must go to one of these origins (`https://host:port`). */
  origins?: ReadonlySet<string>;
  /** Per hop: name resolution, TCP and TLS handshakes. Default 5 s. */
  connectTimeoutMs?: number;
  /** The whole exchange: every hop, and reading the body. Default 15 s. */
  timeoutMs?: number;
  /** Largest response body accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** `follow` (default) follows up to `maxRedirects` hops; `manual` returns the 3xx response. */
  redirect?: 'follow' | 'manual';
  /** Default 5. */
  maxRedirects?: number;
  signal?: AbortSignal;
  resolveHost?: HostResolver;
}

interface ResponseHead {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered, after redirects. */
  url: string;
  redirects: number;
}

export interface SafeResponse extends ResponseHead {
  body: Buffer;
  text(): string;
  json(): unknown;
}

export interface SafeStreamResponse extends ResponseHead {
  /** The body, capped at `maxBytes`. Consume it or `destroy()` it to free the connection. */
  body: Readable;
}

/** What a single call may set: everything but the address policy, which belongs to the fetch. */
export type FetchCallOptions = Omit<SafeFetchOptions, 'allowPrivateNetwork' | 'allowAddress' | 'origins' | 'resolveHost'>;

export type SafeFetch = (url: string | URL, options?: FetchCallOptions) => Promise<SafeResponse>;

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_REDIRECTS = 5;
const USER_AGENT = 'squall-pds';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Credentials meant for one origin must not follow a redirect to another.
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'dpop', 'atproto-proxy'];

// Kept-alive sockets are reused per host:port without a new lookup, so requests made under
// different address policies must never share a pool.
const agentOptions = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000, scheduling: 'lifo' as const };
const agents = {
  strict: new AgentPool(agentOptions),
  permissive: new AgentPool(agentOptions),
};

const systemResolver: HostResolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

/** Fetches a URL under the outbound guard and returns the whole (size-capped) body. */
export async function safeFetch(url: string | URL, options: SafeFetchOptions = {}): Promise<SafeResponse> {
  const response = await safeFetchStream(url, options);
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return {
    status: response.status,
    headers: response.headers,
    url: response.url,
    redirects: response.redirects,
    body,
    text: () => body.toString('utf8'),
    json: () => JSON.parse(body.toString('utf8')) as unknown,
  };
}

/** A `safeFetch` with its address policy (and any other defaults) fixed. */
export function createSafeFetch(defaults: SafeFetchOptions): SafeFetch {
  return (url, options = {}) => safeFetch(url, { ...defaults, ...options, headers: { ...defaults.headers, ...options.headers } });
}

/** Like `safeFetch`, but hands back the body as a stream (for proxying large answers). */
export async function safeFetchStream(input: string | URL, options: SafeFetchOptions = {}): Promise<SafeStreamResponse> {
  const exchange = new Exchange(options);
  try {
    const { response, url, redirects } = await exchange.follow(parseTarget(input), options);
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      throw new SafeFetchError('too-large', `response from ${url.origin} declares ${declared} bytes, more than the ${maxBytes} allowed`);
    }
    const body = exchange.cap(response, maxBytes, url.origin);
    return { status: response.statusCode ?? 0, headers: response.headers, url: url.href, redirects, body };
  } catch (err) {
    exchange.fail(err);
    throw exchange.failure ?? err;
  }
}

function parseTarget(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new SafeFetchError('invalid-url', 'not a valid URL');
  }
  checkProtocol(url);
  return url;
}

function checkProtocol(url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SafeFetchError('forbidden-protocol', `only http and https URLs may be fetched, not ${url.protocol.slice(0, 20)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new SafeFetchError('invalid-url', `refusing a URL with credentials for ${url.host}`);
  }
}

/** One request and its redirects: shared deadline, cancellation and cleanup. */
class Exchange {
  failure: SafeFetchError | undefined;
  readonly #request = new Set<http.ClientRequest>();
  readonly #streams = new Set<Readable>();
  readonly #deadline: NodeJS.Timeout;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.fail(new SafeFetchError('aborted', 'request aborted by the caller', { cause: this.#signal?.reason }));

  constructor(options: SafeFetchOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#deadline = setTimeout(() => this.fail(new SafeFetchError('timeout', `request did not complete within ${timeoutMs} ms`)), timeoutMs);
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.#onAbort();
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Records the first failure and tears everything down with it. */
  fail(err: unknown): void {
    if (this.failure === undefined) {
      this.failure = err instanceof SafeFetchError ? err : new SafeFetchError('network', 'request failed', { cause: err });
    }
    for (const req of this.#request) req.destroy(this.failure);
    for (const stream of this.#streams) stream.destroy(this.failure);
    this.finish();
  }

  finish(): void {
    clearTimeout(this.#deadline);
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  async follow(start: URL, options: SafeFetchOptions): Promise<{ response: IncomingMessage; url: URL; redirects: number }> {
    const maxRedirects = options.redirect === 'manual' ? 0 : (options.maxRedirects ?? DEFAULT_MAX_REDIRECTS);
    let url = start;
    let method = (options.method ?? 'GET').toUpperCase();
    let body = options.body;
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
    for (let redirects = 0; ; redirects++) {
      if (this.failure) throw this.failure;
      if (options.origins !== undefined && !options.origins.has(url.origin)) {
        throw new SafeFetchError('forbidden-origin', `${url.origin} is not one of the configured origins this fetch may reach`);
      }
      const response = await this.#hop(url, method, headers, body, options);
      const location = response.headers.location;
      if (options.redirect === 'manual' || !REDIRECT_STATUSES.has(response.statusCode ?? 0) || location === undefined) {
        return { response, url, redirects };
      }
      response.destroy();
      if (redirects >= maxRedirects) {
        throw new SafeFetchError('too-many-redirects', `more than ${maxRedirects} redirects, last from ${url.origin}`);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new SafeFetchError('bad-redirect', `unparseable redirect from ${url.origin}`);
      }
      checkProtocol(next);
      if (next.origin !== url.origin) for (const name of ORIGIN_BOUND_HEADERS) delete headers[name];
      const status = response.statusCode;
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      url = next;
    }
  }

  /** Wraps a response so that it errors (and frees the socket) once it passes `maxBytes`. */
  cap(response: IncomingMessage, maxBytes: number, origin: string): Readable {
    let seen = 0;
    const limiter = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        seen += chunk.length;
        if (seen > maxBytes) done(new SafeFetchError('too-large', `response from ${origin} is larger than the ${maxBytes} bytes allowed`));
        else done(null, chunk);
      },
    });
    this.#streams.add(response);
    this.#streams.add(limiter);
    response.on('error', (err) => limiter.destroy(this.failure ?? wrapNetworkError(err, origin)));
    limiter.on('close', () => {
      this.finish();
      if (!response.complete) response.destroy();
    });
    response.pipe(limiter);
    return limiter;
  }

  async #hop(url: URL, method: string, headers: Record<string, string>, body: string | Uint8Array | undefined, options: SafeFetchOptions): Promise<IncomingMessage> {
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let connectTimer: NodeJS.Timeout | undefined;
    const connectTimeout = new Promise<never>((_, reject) => {
      connectTimer = setTimeout(() => reject(new SafeFetchError('connect-timeout', `could not connect to ${url.origin} within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    });
    connectTimeout.catch(() => {});
    try {
      const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const target = await Promise.race([pickAddress(hostname, options), connectTimeout]);
      if (this.failure) throw this.failure;
      return await Promise.race([this.#send(url, hostname, target, method, headers, body, options, () => clearTimeout(connectTimer)), connectTimeout]);
    } catch (err) {
      if (err instanceof SafeFetchError && err.reason === 'connect-timeout') this.fail(err);
      throw this.failure ?? err;
    } finally {
      clearTimeout(connectTimer);
    }
  }

  #send(
    url: URL,
    hostname: string,
    target: ResolvedAddress,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    options: SafeFetchOptions,
    onConnected: () => void,
  ): Promise<IncomingMessage> {
    const secure = url.protocol === 'https:';
    const pool = options.allowAddress ? undefined : options.allowPrivateNetwork ? agents.permissive : agents.strict;
    // Answer every lookup with the address already checked; with `all` (happy eyeballs) too.
    const pinned: LookupFunction = (_host, opts, callback) => {
      if (opts.all) callback(null, [target]);
      else callback(null, target.address, target.family);
    };
    const sendHeaders = { ...headers };
    if (body !== undefined) sendHeaders['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = requestFn(secure)({
        protocol: url.protocol,
        hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: url.pathname + url.search,
        method,
        headers: sendHeaders,
        agent: pool === undefined ? false : pool.for(secure),
        lookup: pinned,
        family: target.family,
      });
      this.#request.add(req);
      req.once('socket', (socket: Socket) => {
        if (!socket.connecting) onConnected();
        else socket.once(secure ? 'secureConnect' : 'connect', onConnected);
      });
      req.once('response', (response) => {
        this.#request.delete(req);
        resolve(response);
      });
      req.once('error', (err) => {
        this.#request.delete(req);
        reject(this.failure ?? wrapNetworkError(err, url.origin));
      });
      req.end(body);
    });
  }
}

async function pickAddress(hostname: string, options: SafeFetchOptions): Promise<ResolvedAddress> {
  const literal = classifyIp(hostname);
  let addresses: ResolvedAddress[];
  if (literal !== undefined) {
    addresses = [{ address: hostname, family: hostname.includes(':') ? 6 : 4 }];
  } else {
    try {
      addresses = await (options.resolveHost ?? systemResolver)(hostname);
    } catch (err) {
      throw new SafeFetchError('dns', `cannot resolve ${hostname}`, { cause: err });
    }
    if (addresses.length === 0) throw new SafeFetchError('dns', `${hostname} has no addresses`);
  }
  if (!options.allowPrivateNetwork) {
    // Any non-public answer refuses the host: a name that mixes public and private addresses is
    // either misconfigured or probing, and which one a client would pick is not ours to guess.
    for (const { address } of addresses) {
      const cls = classifyIp(address);
      if (cls === undefined) throw new SafeFetchError('dns', `${hostname} resolved to something that is not an IP address`);
      if (cls !== 'public' && !options.allowAddress?.(address, cls, hostname)) throw new ForbiddenAddressError(hostname, address, cls);
    }
  }
  return addresses[0];
}

function wrapNetworkError(err: unknown, origin: string): SafeFetchError {
  if (err instanceof SafeFetchError) return err;
  const code = (err as { code?: unknown }).code;
  return new SafeFetchError('network', `request to ${origin} failed${typeof code === 'string' ? `: ${code}` : ''}`, { cause: err });
}
