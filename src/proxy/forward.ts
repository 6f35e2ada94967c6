// Service proxying, the request side of the HTTP layer (like src/auth, it speaks XRPC errors): a
// routed call is authorized, its service located, a service token minted, and the request
// streamed up; the answer streams back, or becomes the client's XRPC error. Nothing is sent
// upstream before the caller is known and allowed and the target is known.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AuthState } from '../auth/types.ts';
import type { DidResolver } from '../identity/did-resolver.ts';
import { getServiceEndpoint } from '../identity/index.ts';
import type { Logger } from '../logger.ts';
import { checkDeclaredLength, hasBody, limitedBodyStream, mediaType } from '../xrpc/body.ts';
import { InvalidRequestError, UpstreamFailureError, type AuthVerifier, type ForwardArgs, type Forwarder, type LocalMethod } from '../xrpc/index.ts';
import { authorizeProxy } from './authorize.ts';
import type { ReadAfterWrite } from './read-after-write/index.ts';
import { copyResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import type { ProxyRoute, ProxyRoutes } from './routes.ts';
import { NoSigningKeyError, type ServiceTokens } from './service-tokens.ts';
import { fromUpstreamAnswer, fromUpstreamFailure } from './upstream-errors.ts';
import type { Upstreams } from './upstream.ts';

export interface ProxyLimits {
  /** Largest JSON request body forwarded. */
  jsonBodyBytes: number;
  /** Largest request body of any other type forwarded. */
  otherBodyBytes: number;
  /** Largest answer passed back. */
  maxResponseBytes: number;
}

export interface ForwarderDeps {
  routes: ProxyRoutes;
  /** The controller's verifier for forwarded calls (any account session). */
  auth: AuthVerifier<AuthState>;
  dids: Pick<DidResolver, 'resolve'>;
  tokens: ServiceTokens;
  upstreams: Upstreams;
  limits: ProxyLimits;
  /** Whether endpoints from DID documents may be plain http (development and tests only). */
  allowHttpEndpoints: boolean;
  log: Pick<Logger, 'warn'>;
  /** Completes the AppView's views with the account's newest records (read-after-write). */
  readAfterWrite?: ReadAfterWrite;
  /** Each upstream request's service DID, status (or 'error' when none came) and seconds to the answer's headers (metrics). */
  onUpstream?: (service: string, status: number | 'error', seconds: number) => void;
}

export function createForwarder(deps: ForwarderDeps): Forwarder<AuthState, ProxyRoute> {
  const { limits, log, readAfterWrite } = deps;

  async function endpointOf(route: ProxyRoute): Promise<string> {
    if (route.url !== undefined) return route.url;
    let document;
    try {
      document = (await deps.dids.resolve(route.did)).document;
    } catch {
      throw new InvalidRequestError(`Could not resolve ${route.did}, the DID named by the atproto-proxy header`);
    }
    const endpoint = getServiceEndpoint(document, { id: route.serviceId });
    if (endpoint === undefined) throw new InvalidRequestError(`The DID document of ${route.did} has no #${route.serviceId} service`);
    if (!endpoint.startsWith('https:') && !deps.allowHttpEndpoints) {
      throw new InvalidRequestError(`The #${route.serviceId} service of ${route.did} is not an https URL`);
    }
    return endpoint;
  }

  async function forward({ route, info, auth, res }: ForwardArgs<AuthState, ProxyRoute>): Promise<void> {
    const { nsid, req } = info;
    const iss = authorizeProxy(auth, { lxm: nsid, aud: `${route.did}#${route.serviceId}` });
    const endpoint = await endpointOf(route);
    let token: string;
    try {
      // Configured services are the operator's: their tokens are reused (see ServiceTokens). A
      // service met through a DID document may hold each token to one use, as the spec suggests.
      token = await deps.tokens.get(iss, route.did, nsid, route.url !== undefined);
    } catch (err) {
      if (err instanceof NoSigningKeyError) throw new InvalidRequestError('This account has no signing key on this server');
      throw err;
    }
    const withBody = req.method === 'POST' && hasBody(req);
    let body;
    if (withBody) {
      const limit = mediaType(req.headers['content-type']) === 'application/json' ? limits.jsonBodyBytes : limits.otherBodyBytes;
      checkDeclaredLength(req, limit);
      body = limitedBodyStream(req, limit);
    }
    const query = rawQuery(req);
    const url = new URL(`${endpoint}/xrpc/${nsid}${query}`);
    // A view read-after-write may complete must come in a coding this server can read too.
    const merges = readAfterWrite?.handles(nsid) ? readAfterWrite : undefined;
    let response: IncomingMessage;
    const started = performance.now();
    try {
      response = await deps.upstreams.request({
        url,
        method: req.method ?? 'GET',
        headers: upstreamRequestHeaders(req, token, withBody, merges?.acceptEncoding(req.headers['accept-encoding'])),
        body,
        guarded: route.url === undefined,
      });
    } catch (err) {
      deps.onUpstream?.(route.did, 'error', (performance.now() - started) / 1000);
      const mapped = fromUpstreamFailure(err);
      if (mapped !== err) log.warn({ nsid, service: route.did, reason: (err as Error).message }, 'proxied request failed');
      throw mapped;
    }
    deps.onUpstream?.(route.did, response.statusCode ?? 502, (performance.now() - started) / 1000);
    if ((response.statusCode ?? 502) >= 400) {
      const error = await fromUpstreamAnswer(response);
      if (merges && (await merges.answerNotFound(nsid, iss, new URLSearchParams(query.slice(1)), error, res))) return;
      throw error;
    }
    if (merges && (await merges.answer(nsid, iss, response, res))) return;
    await relay(response, res, limits.maxResponseBytes, (reason) => log.warn({ nsid, service: route.did, reason }, 'proxied answer cut off'));
  }

  return {
    route: (nsid: string, req: IncomingMessage, local: LocalMethod | undefined) => deps.routes.decide(nsid, req, local),
    auth: deps.auth,
    forward,
  };
}

/** `?` and the query string exactly as the client sent it, or nothing. */
function rawQuery(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q);
}

/**
 * Streams a successful answer to the client: status, the headers clients rely on, the body as it
 * comes, capped. Once it has started, a failure can only cut it off.
 */
async function relay(response: IncomingMessage, res: ServerResponse, maxBytes: number, onCut: (reason: string) => void): Promise<void> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw new UpstreamFailureError(`Upstream answer is larger than ${maxBytes} bytes`);
  }
  res.statusCode = response.statusCode ?? 200;
  copyResponseHeaders(response.headers, res);
  try {
    // A declared length is enforced by the HTTP parser; a chunked answer is counted as it flows.
    if (Number.isFinite(declared)) await pipeline(response, res);
    else await pipeline(response, new ByteCap(maxBytes), res);
  } catch (err) {
    // The client leaving early is no failure; anything else is logged. Either way the answer ends here.
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') onCut((err as Error).message);
    res.destroy();
  }
}

class ByteCap extends Transform {
  #seen = 0;
  constructor(readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.max) callback(new Error(`answer larger than ${this.max} bytes`));
    else callback(null, chunk);
  }
}
