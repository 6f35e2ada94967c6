// The HTTP client of forwarded requests: bodies streamed both ways, keep-alive connection pools
// per upstream (Node's agents pool by host and port), a deadline for the answer's headers and an
// idle timeout while bodies flow. Two pools: one for the services the operator configured
// (trusted, any address), one for endpoints taken from DID documents, whose every connection is
// made to an address checked by the same rules as the guarded fetch (src/net): the host is
// resolved, every address it resolves to must be public, and the socket connects to the address
// that was checked (the resolver answer is the one used, so it cannot change in between).
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { classifyIp } from '../net/ip-address.ts';

export type UpstreamFailure = 'unreachable' | 'timeout' | 'forbidden-address';

/** The upstream could not be asked or did not answer in time. Messages name no address. */
export class UpstreamRequestError extends Error {
  override name = 'UpstreamRequestError';

  constructor(
    readonly reason: UpstreamFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface UpstreamCall {
  url: URL;
  method: string;
  headers: OutgoingHttpHeaders;
  body?: Readable;
  /** The endpoint came from a DID document: only public addresses may be reached. */
  guarded: boolean;
}

export interface UpstreamOptions {
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Lets guarded requests reach loopback and private addresses too (tests, a local network). */
  allowPrivateNetwork: boolean;
  maxSockets?: number;
}

type Pool = { http: http.Agent; https: https.Agent };

export class Upstreams {
  readonly #trusted: Pool;
  readonly #guarded: Pool;
  readonly #options: UpstreamOptions;

  constructor(options: UpstreamOptions) {
    this.#options = options;
    const base = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: options.maxSockets ?? 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    this.#trusted = { http: new http.Agent(base), https: new https.Agent(base) };
    const lookup = options.allowPrivateNetwork ? undefined : publicOnlyLookup;
    this.#guarded = { http: new http.Agent({ ...base, lookup }), https: new https.Agent({ ...base, lookup }) };
  }

  /**
   * Sends the request (streaming `body` when given) and resolves with the answer as soon as its
   * headers arrive; its body is left to the caller, under the idle timeout. Rejects with an
   * `UpstreamRequestError`, or with the request body's own error (a size limit) when that comes first.
   */
  request(call: UpstreamCall): Promise<IncomingMessage> {
    const { url } = call;
    const secure = url.protocol === 'https:';
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (call.guarded && !this.#options.allowPrivateNetwork) {
      const literal = classifyIp(hostname);
      if (literal !== undefined && literal !== 'public') {
        return Promise.reject(new UpstreamRequestError('forbidden-address', `the service endpoint is a ${literal} address`));
      }
    }
    const pool = call.guarded ? this.#guarded : this.#trusted;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let req: http.ClientRequest;
      try {
        req = (secure ? https : http).request({
          protocol: url.protocol,
          hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: url.pathname + url.search,
          method: call.method,
          headers: call.headers,
          agent: secure ? pool.https : pool.http,
        });
      } catch (err) {
        return reject(new UpstreamRequestError('unreachable', 'the request could not be sent upstream', { cause: err }));
      }
      let settled = false;
      const deadline = setTimeout(
        () => fail(new UpstreamRequestError('timeout', `the upstream service did not answer within ${this.#options.headersTimeoutMs} ms`)),
        this.#options.headersTimeoutMs,
      );
      const fail = (err: Error) => {
        if (settled) return void req.destroy(err);
        settled = true;
        clearTimeout(deadline);
        req.destroy();
        reject(err);
      };
      req.setTimeout(this.#options.bodyTimeoutMs, () => {
        fail(new UpstreamRequestError('timeout', `the upstream service was silent for ${this.#options.bodyTimeoutMs} ms`));
      });
      req.once('response', (response) => {
        if (settled) return void response.destroy();
        settled = true;
        clearTimeout(deadline);
        resolve(response);
      });
      req.on('error', (err) => fail(asUpstreamError(err)));
      if (call.body === undefined) return void req.end();
      call.body.on('error', fail);
      call.body.pipe(req);
    });
  }

  close(): void {
    for (const pool of [this.#trusted, this.#guarded]) {
      pool.http.destroy();
      pool.https.destroy();
    }
  }
}

function asUpstreamError(err: Error): Error {
  if (err instanceof UpstreamRequestError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new UpstreamRequestError('unreachable', `the upstream service could not be reached${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err });
}

/** A resolver that answers only with public addresses, and fails when a name has any other kind. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
    if (err) return callback(err, '', 4);
    for (const { address } of addresses) {
      const cls = classifyIp(address);
      if (cls !== 'public') {
        const refused = new UpstreamRequestError('forbidden-address', `the service endpoint resolves to a ${cls ?? 'non-IP'} address`);
        return callback(refused as NodeJS.ErrnoException, '', 4);
      }
    }
    if (addresses.length === 0) return callback(Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }), '', 4);
    if (options.all) return (callback as unknown as (e: null, a: typeof addresses) => void)(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};
