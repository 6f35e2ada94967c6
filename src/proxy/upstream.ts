// The HTTP client of forwarded requests: bodies streamed both ways, keep-alive connection pools
// per upstream (Node's agents pool by host and port), a deadline for the answer's headers and an
// idle timeout while bodies flow. Two pools: one for the services the operator configured
// (trusted, any address), one for endpoints taken from DID documents, whose every connection is
// made to an address checked by the same rules as the guarded fetch (src/net/public-lookup.ts):
// the host is resolved, every address it resolves to must be public, and the socket connects to
// the address that was checked (the resolver answer is the one used, so it cannot change in between).
import type http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { AgentPool, requestFn } from '../net/agent-pool.ts';
import { ForbiddenAddressError } from '../net/errors.ts';
import { classifyIp } from '../net/ip-address.ts';
import { publicOnlyLookup } from '../net/public-lookup.ts';

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
  /** Development only (PDS_DISABLE_SSRF_PROTECTION): guarded requests may reach loopback and private addresses too. */
  disableSsrfProtection: boolean;
  maxSockets?: number;
}

export class Upstreams {
  readonly #trusted: AgentPool;
  readonly #guarded: AgentPool;
  readonly #options: UpstreamOptions;

  constructor(options: UpstreamOptions) {
    this.#options = options;
    const base = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: options.maxSockets ?? 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    this.#trusted = new AgentPool(base);
    const lookup = options.disableSsrfProtection ? undefined : publicOnlyLookup;
    this.#guarded = new AgentPool({ ...base, lookup });
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
    if (call.guarded && !this.#options.disableSsrfProtection) {
      const literal = classifyIp(hostname);
      if (literal !== undefined && literal !== 'public') {
        return Promise.reject(new UpstreamRequestError('forbidden-address', `the service endpoint is a ${literal} address`));
      }
    }
    const pool = call.guarded ? this.#guarded : this.#trusted;
    return new Promise<IncomingMessage>((resolve, reject) => {
      let req: http.ClientRequest;
      try {
        req = requestFn(secure)({
          protocol: url.protocol,
          hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: url.pathname + url.search,
          method: call.method,
          headers: call.headers,
          agent: pool.for(secure),
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
    this.#trusted.destroy();
    this.#guarded.destroy();
  }
}

function asUpstreamError(err: Error): Error {
  if (err instanceof UpstreamRequestError) return err;
  if (err instanceof ForbiddenAddressError) return new UpstreamRequestError('forbidden-address', `the service endpoint resolves to a ${err.addressClass} address`);
  const code = (err as NodeJS.ErrnoException).code;
  return new UpstreamRequestError('unreachable', `the upstream service could not be reached${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err });
}
