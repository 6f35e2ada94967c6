import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export type MethodKind = 'query' | 'procedure' | 'subscription';

/** A Lexicon `params` definition, as found in the JSON documents. */
export interface LexParamsDef {
  type: 'params';
  required?: string[];
  properties?: Record<string, LexParamDef>;
}

export interface LexPrimitiveDef {
  type: 'string' | 'integer' | 'boolean' | 'unknown';
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxGraphemes?: number;
  minGraphemes?: number;
  enum?: Array<string | number>;
  knownValues?: string[];
  const?: string | number | boolean;
  default?: string | number | boolean;
}

export type LexParamDef = LexPrimitiveDef | { type: 'array'; items: LexPrimitiveDef; minLength?: number; maxLength?: number };

/** What the XRPC layer needs to know of a method's Lexicon. */
export interface MethodSchema {
  kind: MethodKind;
  params?: LexParamsDef;
  input?: { encoding: string; schema?: unknown };
  output?: { encoding: string; schema?: unknown };
  errors: string[];
}

export type ValidationResult = { success: true; value: unknown } | { success: false; message: string };

/** Where method schemas come from: the Lexicon set in production, anything in tests. */
export interface SchemaSource {
  getMethod(nsid: string): MethodSchema | undefined;
  validateInput(nsid: string, value: unknown): ValidationResult;
  validateOutput(nsid: string, value: unknown): ValidationResult;
}

export type StringFormatValidators = Record<string, (value: string) => boolean>;

/** A body that is not JSON: bytes, a stream or an async iterable of chunks. */
export class BinaryOutput {
  constructor(
    readonly encoding: string,
    readonly body: Uint8Array | Readable | AsyncIterable<Uint8Array>,
    readonly headers: Record<string, string> = {},
    readonly status = 200,
  ) {}
}

/**
 * A JSON answer already encoded (UTF-8), for answers assembled from stored parts without building
 * objects first. Strict mode parses it back to validate it against the method's output schema.
 */
export class EncodedJsonOutput {
  constructor(readonly bytes: Uint8Array) {}
}

/** A JSON answer with extra headers (most handlers just return the object). */
export class JsonOutput {
  constructor(
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export interface RequestInfo {
  nsid: string;
  req: IncomingMessage;
  /** Client IP: the socket peer, or X-Forwarded-For when the peer is a trusted proxy. */
  ip: string;
  params: Record<string, unknown>;
}

export interface HandlerArgs<Ctx, Auth> extends RequestInfo {
  ctx: Ctx;
  auth: Auth;
  /** JSON procedures: the parsed, validated body. Other encodings: a size-limited stream. */
  input: unknown;
  /** The request's content type (lower case, without parameters) when it has a body. */
  inputEncoding: string | undefined;
  res: ServerResponse;
}

export type Handler<Ctx, Auth> = (args: HandlerArgs<Ctx, Auth>) => Promise<unknown> | unknown;

/**
 * A message a subscription yields: `type` is the `#name` of the message def, and either `body`
 * (encoded as DAG-CBOR when sent) or `encoded`, its DAG-CBOR already made (the firehose stores
 * events encoded, so frames are built without decoding them again).
 */
export type SubscriptionMessage = { type: string; body: unknown; encoded?: undefined } | { type: string; encoded: Uint8Array; body?: undefined };

export type SubscriptionHandler<Ctx, Auth> = (
  args: RequestInfo & { ctx: Ctx; auth: Auth; signal: AbortSignal },
) => AsyncIterable<SubscriptionMessage>;

/** Decides who may call; throws an XrpcError (401/403) when nobody may. */
export type AuthVerifier<Auth> = (info: RequestInfo) => Promise<Auth> | Auth;

/** What a rate limit's key and cost see: the request, its parsed input, its auth and the context. */
export type RateLimitInfo<Ctx = unknown> = RequestInfo & { input: unknown; auth: unknown; ctx: Ctx };

/**
 * Decides whether this caller may make this very call, once the request is parsed: for rules that
 * depend on the parameters or the body (an OAuth grant limited to some collections, say).
 * Throws when it may not.
 */
export type Authorizer<Auth> = (args: RequestInfo & { auth: Auth; input: unknown; inputEncoding: string | undefined }) => Promise<void> | void;

export interface RateLimitSpec<Ctx = unknown> {
  /** Name of the bucket (shared between methods that use the same name). */
  name: string;
  points: number;
  windowMs: number;
  /**
   * What the limit is keyed by; default the client (its IP, an IPv6 client by its /64). Key on
   * what the method's own lookup resolves, or a differently spelled input is a fresh allowance.
   */
  key?: (info: RateLimitInfo<Ctx>) => string | undefined;
  /** Points this call costs (default 1). */
  cost?: (info: RateLimitInfo<Ctx>) => number;
}

export interface MethodDef<Ctx, Auth> {
  nsid: string;
  /** Name of an auth verifier known to the registry ('none' is built in). */
  auth: string;
  /** Checks on the parsed request, after the body is validated and before rate limits and the handler. */
  authorize?: Authorizer<Auth>;
  handler?: Handler<Ctx, Auth>;
  subscription?: SubscriptionHandler<Ctx, Auth>;
  /** Error names this method emits beyond those its Lexicon declares. */
  errors?: string[];
  /** Body limit in bytes for this method (default: the registry's JSON limit). */
  maxBodyBytes?: number | ((ctx: Ctx) => number);
  rateLimits?: RateLimitSpec<Ctx>[];
  /** For methods without a Lexicon document (`_health`, `_admin/status`). */
  schema?: MethodSchema;
  /**
   * Whether an `atproto-proxy` header may send this method to another service (see `Forwarder`).
   * Default false: answered here whatever the header says. True: answered here unless the header
   * names a service other than the one the method's namespace goes to by default.
   */
  forwardWhenProxiedElsewhere?: boolean;
}

/** What a `Forwarder` sees of the method table entry for a name, when there is one. */
export interface LocalMethod {
  readonly nsid: string;
  readonly forwardWhenProxiedElsewhere: boolean;
}

/**
 * Requests the server sends on to another service instead of answering them itself (service
 * proxying). The controller asks `route` about every request before it looks at the method
 * table; a request it routes is authenticated with `auth` (a verifier of the table) and handed
 * to `forward`, which answers it. The controller knows nothing of what a route is.
 */
export interface Forwarder<Auth, Route> {
  /**
   * Undefined: the request is answered here (or is 404 when no method has the name). Synchronous
   * and free of I/O; throws an XrpcError for a request that may go nowhere (a malformed header).
   */
  route(nsid: string, req: IncomingMessage, local: LocalMethod | undefined): Route | undefined;
  auth: AuthVerifier<Auth>;
  /** Sends the request on and answers it; throws an XrpcError while nothing has been answered. */
  forward(args: ForwardArgs<Auth, Route>): Promise<void>;
}

export interface ForwardArgs<Auth, Route> {
  route: Route;
  info: RequestInfo;
  auth: Auth;
  res: ServerResponse;
}
