import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { checkDeclaredLength, clientClosesAfter, discardRest, hasBody, lingerClose, limitedBodyStream, mediaType, parseJsonBody, readBody } from './body.ts';
import { InternalServerError, InvalidRequestError, MethodNotImplementedError, XrpcError } from './errors.ts';
import { clientKeyOf } from '../net/ip-address.ts';
import { enforceRateLimits, type RateLimiter } from './rate-limit.ts';
import { discardBody, STREAM_LIMIT_DEFAULTS, StreamLimits, tooManyStreams } from './stream-limits.ts';
import type { MethodEntry, Registry } from './registry.ts';
import { BinaryOutput, EncodedJsonOutput, JsonOutput, type Forwarder, type RequestInfo, type SchemaSource } from './types.ts';

export interface ControllerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ControllerOptions<Ctx, Auth = unknown> {
  ctx: Ctx;
  schemas: SchemaSource;
  log: ControllerLogger;
  rateLimiter?: RateLimiter;
  /** Caps and time limits of streamed answers (every BinaryOutput whose body is a stream). Default: STREAM_LIMIT_DEFAULTS. */
  streams?: StreamLimits;
  /** Client IP of a request (the server decides whether X-Forwarded-For is trusted). */
  clientIp: (req: IncomingMessage) => string;
  /** Maps an error thrown by a handler (e.g. a domain error) to an XrpcError; undefined means unexpected. */
  mapError?: (err: unknown) => XrpcError | undefined;
  /**
   * Strict mode (tests, dev): every JSON answer is validated against the method's output schema,
   * and an error name the method did not declare becomes a 500, so drift fails loudly.
   */
  strict: boolean;
  /** Service proxying: requests answered by another service (consulted before the method table). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the route is the forwarder's own business
  forwarder?: Forwarder<any, any>;
  /**
   * Called once per request when its answer is written (metrics): the method entry (undefined
   * for an NSID without one), the status, the caller's auth (undefined when none was
   * established), whether the auth verifier refused the credential, the seconds the request
   * took, and whether it was forwarded to another service.
   */
  observe?: (method: MethodEntry<Ctx, Auth> | undefined, status: number, auth: Auth | undefined, authRejected: boolean, seconds: number, forwarded: boolean) => void;
}

/** What a request's auth came to, for `observe`. */
class RequestOutcome<Auth> {
  auth: Auth | undefined = undefined;
  rejected = false;
  forwarded = false;
}

/** Runs an auth verifier, noting in `outcome` (when there is one) whether it refused. */
async function authenticate<A>(verify: (info: RequestInfo) => A | Promise<A>, info: RequestInfo, outcome: RequestOutcome<A> | undefined): Promise<A> {
  if (!outcome) return verify(info);
  outcome.rejected = true;
  const auth = await verify(info);
  outcome.rejected = false;
  outcome.auth = auth;
  return auth;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The one XRPC controller: lookup, verb, content type, body limit, auth, parameters and body,
 * rate limits, then the handler. Every failure is rendered as `{"error", "message"}` JSON.
 */
export function createXrpcController<Ctx, Auth>(registry: Registry<Ctx, Auth>, options: ControllerOptions<Ctx, Auth>) {
  const { ctx, log } = options;
  const streams = options.streams ?? new StreamLimits(STREAM_LIMIT_DEFAULTS);

  const { forwarder } = options;

  async function forward(req: IncomingMessage, res: ServerResponse, nsid: string, route: unknown, outcome: RequestOutcome<Auth> | undefined): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      throw new InvalidRequestError(`Incorrect HTTP method (${method}): XRPC calls use GET or POST`);
    }
    const info: RequestInfo = { nsid, req, ip: options.clientIp(req), params: {} };
    const auth = await authenticate(forwarder!.auth, info, outcome as RequestOutcome<unknown> | undefined);
    await forwarder!.forward({ route, info, auth, res });
  }

  async function run(
    req: IncomingMessage,
    res: ServerResponse,
    nsid: string,
    query: URLSearchParams,
    entry: MethodEntry<Ctx, Auth> | undefined,
    outcome: RequestOutcome<Auth> | undefined,
  ): Promise<void> {
    if (!entry) throw new MethodNotImplementedError(`Method not implemented: ${truncate(nsid)}`);
    const method = req.method ?? 'GET';
    checkVerb(entry, method);

    const contentType = mediaType(req.headers['content-type']);
    const bodyPresent = entry.kind === 'procedure' && hasBody(req);
    const limit = typeof entry.bodyLimit === 'function' ? entry.bodyLimit(ctx) : entry.bodyLimit;
    if (entry.kind === 'procedure') {
      checkContentType(entry, bodyPresent, contentType);
      checkDeclaredLength(req, limit);
    }

    const info: RequestInfo = { nsid, req, ip: options.clientIp(req), params: {} };
    const auth = await authenticate(entry.auth, info, outcome);
    info.params = entry.coerceParams(query);

    let input: unknown = undefined;
    if (entry.kind === 'procedure' && entry.inputEncoding) {
      if (entry.inputIsJson) {
        input = parseJsonBody(await readBody(req, limit));
        if (entry.hasInputSchema) {
          const result = options.schemas.validateInput(nsid, input);
          if (!result.success) throw new InvalidRequestError(result.message);
          input = result.value;
        }
      } else {
        input = limitedBodyStream(req, limit);
      }
    } else if (bodyPresent) {
      // A procedure without declared input: whatever was sent is read (within the limit) and ignored.
      await readBody(req, limit);
    }

    if (entry.authorize) {
      const pending = entry.authorize({ ...info, auth, input, inputEncoding: contentType });
      if (pending) await pending;
    }

    if (entry.rateLimits.length > 0 && options.rateLimiter) {
      const limitInfo = { ...info, input, auth, ctx };
      enforceRateLimits(
        options.rateLimiter,
        entry.rateLimits,
        (spec) => (spec.key ? spec.key(limitInfo) : clientKeyOf(info.ip)),
        (headers) => setHeaders(res, headers),
        (spec) => (spec.cost ? spec.cost(limitInfo) : 1),
      );
    }

    const output = await entry.handler!({ ...info, ctx, auth, input, inputEncoding: contentType, res });
    if (res.headersSent || res.writableEnded) return;
    await writeOutput(entry, req, res, output, info.ip);
  }

  /** `ip`: the client's, whose key counts its streamed answers. */
  async function writeOutput(entry: MethodEntry<Ctx, Auth>, req: IncomingMessage, res: ServerResponse, output: unknown, ip: string) {
    const head = req.method === 'HEAD';
    if (output instanceof BinaryOutput) {
      const streamed = !head && !(output.body instanceof Uint8Array);
      // A stream takes its slot before any header is set, so a refusal is a clean JSON 429.
      const slot = streamed ? acquireStream(output.body as Readable | AsyncIterable<Uint8Array>, clientKeyOf(ip)) : undefined;
      setHeaders(res, output.headers);
      res.statusCode = output.status;
      if (!res.hasHeader('content-type')) res.setHeader('Content-Type', output.encoding);
      if (head) {
        discardBody(output.body);
        return void res.end();
      }
      if (output.body instanceof Uint8Array) {
        res.setHeader('Content-Length', output.body.byteLength);
        return void res.end(output.body);
      }
      try {
        const outcome = await streams.pipe(output.body, res);
        if (outcome !== 'complete') log.info({ nsid: entry.nsid, outcome }, 'streamed answer cut off');
      } finally {
        slot?.();
      }
      return;
    }
    if (output instanceof EncodedJsonOutput) {
      if (options.strict && entry.outputIsJson && entry.hasOutputSchema) {
        validateOutput(entry, JSON.parse(Buffer.from(output.bytes.buffer, output.bytes.byteOffset, output.bytes.byteLength).toString('utf8')));
      }
      return void sendJson(res, output.bytes, head);
    }
    let body = output;
    if (output instanceof JsonOutput) {
      setHeaders(res, output.headers);
      body = output.body;
    }
    if (body === undefined) {
      if (entry.outputEncoding && entry.hasOutputSchema && options.strict) {
        throw new InternalServerError(`handler of ${entry.nsid} returned no output`);
      }
      res.statusCode = 200;
      return void res.end();
    }
    if (options.strict && entry.outputIsJson && entry.hasOutputSchema) validateOutput(entry, body);
    sendJson(res, JSON.stringify(body), head);
  }

  function validateOutput(entry: MethodEntry<Ctx, Auth>, body: unknown): void {
    const result = options.schemas.validateOutput(entry.nsid, body);
    if (!result.success) throw new InternalServerError(`output of ${entry.nsid} does not match its Lexicon: ${result.message}`);
  }

  function sendJson(res: ServerResponse, body: string | Uint8Array, head: boolean): void {
    res.statusCode = 200;
    res.setHeader('Content-Type', JSON_TYPE);
    res.setHeader('Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    res.end(head ? undefined : body);
  }

  /** A slot for one streamed answer, or a 429 (the body is closed unsent). */
  function acquireStream(body: Readable | AsyncIterable<Uint8Array>, client: string): () => void {
    const slot = streams.acquire(client);
    if (slot.ok) return slot.release;
    discardBody(body);
    throw tooManyStreams(slot.scope);
  }

  function toXrpcError(err: unknown, entry: MethodEntry<Ctx, Auth> | undefined): XrpcError {
    let xrpcError = err instanceof XrpcError ? err : options.mapError?.(err);
    if (!xrpcError) {
      log.error({ err, nsid: entry?.nsid }, 'unexpected error in XRPC handler');
      return new InternalServerError();
    }
    if (options.strict && entry && !entry.declaredErrors.has(xrpcError.error)) {
      log.error({ nsid: entry.nsid, error: xrpcError.error }, 'handler emitted an undeclared error name');
      xrpcError = new InternalServerError(`${entry.nsid} emitted undeclared error ${xrpcError.error}: ${xrpcError.message}`);
    }
    return xrpcError;
  }

  const observe = options.observe;

  return async function handleXrpc(req: IncomingMessage, res: ServerResponse, nsid: string, query: URLSearchParams): Promise<void> {
    const entry = registry.get(nsid);
    if (!observe) return answer(req, res, nsid, query, entry, undefined);
    const started = performance.now();
    const outcome = new RequestOutcome<Auth>();
    await answer(req, res, nsid, query, entry, outcome);
    observe(entry, res.statusCode, outcome.auth, outcome.rejected, (performance.now() - started) / 1000, outcome.forwarded);
  };

  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    nsid: string,
    query: URLSearchParams,
    entry: MethodEntry<Ctx, Auth> | undefined,
    outcome: RequestOutcome<Auth> | undefined,
  ): Promise<void> {
    let forwarded = false;
    try {
      const route = forwarder?.route(nsid, req, entry);
      if (route !== undefined) {
        forwarded = true;
        if (outcome) outcome.forwarded = true;
        await forward(req, res, nsid, route, outcome);
      } else {
        await run(req, res, nsid, query, entry, outcome);
      }
    } catch (err) {
      if (clientWentAway(req, err)) {
        // Not a server error: anyone can close a connection, and the error log is for the operator.
        log.info({ nsid: truncate(nsid), reason: (err as NodeJS.ErrnoException).code }, 'client went away before the answer was complete');
        res.destroy();
        return;
      }
      // A forwarded call answers with the upstream's error names, which no local Lexicon declares.
      const xrpcError = toXrpcError(err, forwarded ? undefined : entry);
      if (res.headersSent) {
        // The answer was already streaming: all that can be done is to cut it off.
        res.destroy(xrpcError);
        return;
      }
      await answerEarly(req, res, xrpcError);
    }
  }
}

/**
 * Sends an error, with the request body perhaps still arriving. A client still sending only gets
 * to read the answer if the server reads on (closing with unread bytes resets the connection), so
 * the rest of the body is read and dropped, within bounds: after the answer when the connection
 * stays open, before it when the client asked to close (the server closes right after answering).
 * A body past the bounds is cut off once the answer is out.
 */
async function answerEarly(req: IncomingMessage, res: ServerResponse, error: XrpcError): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.complete || req.destroyed) return sendError(res, error, head);
  if (clientClosesAfter(req)) {
    const outcome = await discardRest(req);
    if (res.headersSent || res.destroyed) return;
    sendError(res, error, head);
    if (outcome === 'over') lingerClose(req);
    return;
  }
  sendError(res, error, head);
  if ((await discardRest(req)) === 'over') lingerClose(req);
}

const GONE_CODES: ReadonlySet<string> = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ERR_STREAM_DESTROYED']);

/** The failure is the client's connection closing under an answer (a download aborted). */
function clientWentAway(req: IncomingMessage, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && GONE_CODES.has(code) && req.socket.destroyed;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- only kind and encodings are read
function checkVerb(entry: MethodEntry<any, any>, method: string): void {
  if (entry.kind === 'procedure') {
    if (method !== 'POST') throw new InvalidRequestError(`Incorrect HTTP method (${method}): ${entry.nsid} is a procedure, use POST`);
    return;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    throw new InvalidRequestError(`Incorrect HTTP method (${method}): ${entry.nsid} is a ${entry.kind}, use GET`);
  }
  if (entry.kind === 'subscription') {
    throw new XrpcError(426, 'InvalidRequest', `${entry.nsid} is a subscription: connect with a WebSocket upgrade`, {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
    });
  }
}

function checkContentType(entry: MethodEntry<any, any>, bodyPresent: boolean, contentType: string | undefined): void {
  const expected = entry.inputEncoding;
  if (!expected) return;
  // Any-type input (blob uploads) may be empty: an empty blob is still a blob.
  if (expected === '*/*') return;
  if (!bodyPresent) throw new InvalidRequestError(`Request body is required (${expected})`);
  if (!contentType) throw new InvalidRequestError(`Request has no Content-Type; expected ${expected}`);
  if (!encodingMatches(expected, contentType)) {
    throw new InvalidRequestError(`Wrong request encoding (Content-Type): ${contentType}; expected ${expected}`);
  }
}

function encodingMatches(expected: string, actual: string): boolean {
  if (expected === actual) return true;
  if (expected.endsWith('/*')) return actual.startsWith(expected.slice(0, -1));
  return false;
}

export function sendError(res: ServerResponse, error: XrpcError, head = false): void {
  const text = JSON.stringify(error.toJSON());
  res.statusCode = error.status;
  setHeaders(res, error.headers);
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(head ? undefined : text);
}

function setHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const name in headers) res.setHeader(name, headers[name]);
}

function truncate(value: string): string {
  return value.length > 120 ? `${value.slice(0, 120)}…` : value;
}
