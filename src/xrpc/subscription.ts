import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { encodeCbor } from '../ipld/cbor.ts';
import { clientKeyOf } from '../net/ip-address.ts';
import type { ControllerLogger } from './controller.ts';
import { InvalidRequestError, MethodNotImplementedError, RateLimitExceededError, XrpcError } from './errors.ts';
import type { Registry } from './registry.ts';
import type { RequestInfo, SubscriptionMessage } from './types.ts';

export interface SubscriptionOptions<Ctx> {
  ctx: Ctx;
  log: ControllerLogger;
  clientIp: (req: IncomingMessage) => string;
  mapError?: (err: unknown) => XrpcError | undefined;
  /** A consumer whose unsent backlog passes this many bytes is disconnected with ConsumerTooSlow. */
  maxBufferedBytes: number;
  /** Interval of WebSocket pings; a connection that missed a whole interval's pong is dropped. */
  heartbeatMs: number;
  /** Called when a consumer is cut off for being too slow (metrics). */
  onConsumerTooSlow?: () => void;
  /** Open subscriptions, all clients together; past it an upgrade is refused with 429. */
  maxSubscriptions: number;
  /** Open subscriptions of one client (an IPv4 address, an IPv6 /64); past it an upgrade is refused with 429. */
  maxSubscriptionsPerClient: number;
}

/** One frame of an XRPC event stream: a DAG-CBOR header followed by a DAG-CBOR body. */
export function encodeMessageFrame(message: SubscriptionMessage): Buffer {
  const header = encodeCbor({ op: 1, t: message.type });
  const body = message.encoded ?? encodeCbor(message.body);
  return Buffer.concat([header, body]);
}

export function encodeErrorFrame(error: string, message?: string): Buffer {
  const header = encodeCbor({ op: -1 });
  const body = encodeCbor(message === undefined ? { error } : { error, message });
  return Buffer.concat([header, body]);
}

/**
 * Handles HTTP upgrade requests: checks the method exists and is a subscription, runs auth and
 * parameter checks (failures are answered as plain HTTP JSON errors before upgrading), then feeds
 * the handler's async generator into the socket as frames.
 */
export function createSubscriptionUpgrader<Ctx, Auth>(registry: Registry<Ctx, Auth>, options: SubscriptionOptions<Ctx>) {
  // ws (with node:https and node:tls, which it loads for its client side) is loaded at the first
  // subscription, not at boot: an idle server that nobody subscribes to does not hold it.
  let wss: WebSocketServer | undefined;
  let loading: Promise<WebSocketServer> | undefined;
  const websocketServer = () =>
    (loading ??= import('ws').then(({ WebSocketServer }) => (wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 }))));
  const live = new Set<WebSocket>();
  // Connections counted from the moment an upgrade is accepted until its socket closes, so
  // upgrades in their handshake count too. An entry lives only while its client has one open.
  let open = 0;
  const openPerClient = new Map<string, number>();

  /** Counts a connection against the caps, or refuses it; the count is returned when `socket` closes. */
  function admit(socket: Duplex, client: string): void {
    if (open >= options.maxSubscriptions) {
      throw new RateLimitExceededError('Too many subscribers: the server has as many open as it may; try again later', { 'Retry-After': '30' });
    }
    const mine = openPerClient.get(client) ?? 0;
    if (mine >= options.maxSubscriptionsPerClient) {
      throw new RateLimitExceededError(`Too many subscriptions from this client (at most ${options.maxSubscriptionsPerClient} at once)`, { 'Retry-After': '30' });
    }
    // Gone while auth ran: there is nothing to count (its 'close' has already been emitted).
    if (socket.destroyed) return;
    open++;
    openPerClient.set(client, mine + 1);
    socket.once('close', () => {
      open--;
      const left = (openPerClient.get(client) ?? 1) - 1;
      if (left === 0) openPerClient.delete(client);
      else openPerClient.set(client, left);
    });
  }

  const heartbeat = setInterval(() => {
    for (const ws of live) {
      const state = ws as WebSocket & { squallAlive?: boolean };
      if (state.squallAlive === false) {
        ws.terminate();
        continue;
      }
      state.squallAlive = false;
      ws.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, nsid: string, query: URLSearchParams) {
    let info: RequestInfo;
    let auth: Auth;
    const entry = registry.get(nsid);
    try {
      if (!entry) throw new MethodNotImplementedError(`Method not implemented: ${nsid.slice(0, 120)}`);
      if (entry.kind !== 'subscription') throw new InvalidRequestError(`${nsid} is a ${entry.kind}, not a subscription`);
      info = { nsid, req, ip: options.clientIp(req), params: {} };
      auth = await entry.auth(info);
      info.params = entry.coerceParams(query);
      admit(socket, clientKeyOf(info.ip));
    } catch (err) {
      rejectUpgrade(socket, toXrpcError(err));
      return;
    }
    let server: WebSocketServer;
    try {
      server = await websocketServer();
    } catch (err) {
      rejectUpgrade(socket, toXrpcError(err));
      return;
    }
    server.handleUpgrade(req, socket, head, (ws) => {
      const controller = new AbortController();
      ws.once('close', () => controller.abort());
      void stream(ws, () => entry.subscription!({ ...info, ctx: options.ctx, auth, signal: controller.signal }));
    });
  }

  async function stream(ws: WebSocket, start: () => AsyncIterable<SubscriptionMessage>) {
    const state = ws as WebSocket & { squallAlive?: boolean };
    state.squallAlive = true;
    ws.on('pong', () => (state.squallAlive = true));
    ws.on('error', () => ws.terminate());
    live.add(ws);
    ws.once('close', () => live.delete(ws));
    let iterator: AsyncIterator<SubscriptionMessage> | undefined;
    ws.once('close', () => void iterator?.return?.());
    try {
      iterator = start()[Symbol.asyncIterator]();
      for (;;) {
        const next = await iterator.next();
        if (next.done || ws.readyState !== ws.OPEN) break;
        if (ws.bufferedAmount > options.maxBufferedBytes) {
          options.onConsumerTooSlow?.();
          closeWithError(ws, 'ConsumerTooSlow', 'Stream consumer too slow');
          break;
        }
        ws.send(encodeMessageFrame(next.value));
      }
    } catch (err) {
      const xrpcError = toXrpcError(err);
      closeWithError(ws, xrpcError.error, xrpcError.message);
      return;
    }
    if (ws.readyState === ws.OPEN) ws.close(1000);
  }

  function closeWithError(ws: WebSocket, error: string, message: string) {
    if (ws.readyState !== ws.OPEN) return;
    // The error frame is queued behind whatever is still buffered; a consumer that never drains
    // it is cut off after a grace period instead of holding the connection open.
    ws.send(encodeErrorFrame(error, message));
    ws.close(error === 'ConsumerTooSlow' ? 1008 : 1011, error);
    setTimeout(() => ws.terminate(), 10_000).unref();
  }

  function toXrpcError(err: unknown): XrpcError {
    const xrpcError = err instanceof XrpcError ? err : options.mapError?.(err);
    if (xrpcError) return xrpcError;
    options.log.error({ err }, 'unexpected error in subscription');
    return new XrpcError(500, 'InternalServerError', 'Internal Server Error');
  }

  function close() {
    clearInterval(heartbeat);
    for (const ws of live) ws.close(1001, 'server shutting down');
    wss?.close();
  }

  return { upgrade, close, connections: () => live.size };
}

const REASONS: Record<number, string> = { 401: 'Unauthorized', 404: 'Not Found', 429: 'Too Many Requests' };

function rejectUpgrade(socket: Duplex, error: XrpcError) {
  const body = JSON.stringify(error.toJSON());
  const reason = REASONS[error.status] ?? 'Bad Request';
  const headers = [
    `HTTP/1.1 ${error.status} ${reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(error.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
