import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { http } from './net/node-http.ts';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { buildRegistry, mapDomainError } from './api/index.ts';
import { mapStorageFull } from './api/storage-errors.ts';
import type { AppContext } from './context.ts';
import { createClientIpResolver } from './http/client-ip.ts';
import { startLocalPlcServer, type LocalPlcServer } from './identity/local-plc/plc-server.ts';
import { answerPreflight, setCorsHeaders } from './http/cors.ts';
import { createMetricsRoute, startMetricsListener } from './http/metrics-route.ts';
import { wellKnownRoutes } from './http/well-known.ts';
import { classifyIp } from './net/ip-address.ts';
import { requestLogger } from './logger.ts';
import { createOAuthRouter } from './oauth/http/router.ts';
import { createProxy } from './proxy/index.ts';
import { createSubscriptionUpgrader, createXrpcController, sendError, StreamLimits, XrpcError } from './xrpc/index.ts';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly ctx: AppContext;
  /** The built-in PLC directory's URL, when this is a local playground. */
  readonly plcUrl?: string;
  /** URL of the separate metrics listener (PDS_METRICS_LISTEN), when there is one. */
  readonly metricsUrl?: string;
  /** Streamed answers running now, and their limits. */
  readonly streams: StreamLimits;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes storage. */
  close(graceMs?: number): Promise<void>;
}

/** Whether this process runs the compiled build (dist/) or the TypeScript source, for the boot log. */
const RUNNING_FROM = import.meta.url.endsWith('.js') ? 'compiled' : 'typescript-source';

const BANNER = `Squall: an AT Protocol Personal Data Server.

Most API routes are under /xrpc/
`;

export async function startServer(ctx: AppContext): Promise<RunningServer> {
  const { config, log, metrics } = ctx;
  const registry = buildRegistry(ctx);
  const clientIp = createClientIpResolver(config.rateLimits.trustedProxies);
  const proxy = createProxy(ctx, registry);
  const streams = new StreamLimits(config.streams);
  const controller = createXrpcController(registry, {
    ctx,
    schemas: ctx.lexicons,
    log,
    clientIp,
    mapError: mapStorageFull(log, mapDomainError),
    rateLimiter: ctx.rateLimiter,
    strict: config.strictXrpc,
    forwarder: proxy.forwarder,
    observe: metrics
      ? (method, status, auth, authRejected, seconds, forwarded) =>
          metrics.requests.observe(method, status, authRejected ? 'rejected' : (auth?.type ?? 'none'), seconds, forwarded)
      : undefined,
    streams,
  });
  const subscriptions = createSubscriptionUpgrader(registry, {
    ctx,
    log,
    clientIp,
    mapError: mapDomainError,
    maxBufferedBytes: 8 * 1024 * 1024,
    heartbeatMs: 30_000,
    onConsumerTooSlow: metrics && (() => metrics.consumerTooSlow()),
    maxSubscriptions: config.firehose.maxSubscribers,
    maxSubscriptionsPerClient: config.firehose.maxSubscribersPerClient,
  });
  const wellKnown = wellKnownRoutes(ctx);
  const metricsRoute = metrics && createMetricsRoute(metrics, config.metrics.listen ? undefined : ctx.secrets.adminPassword);
  const servesMetrics = metricsRoute !== undefined && !config.metrics.listen;
  /** The bounded set of route labels for requests outside /xrpc/. */
  const routeLabel = (path: string) => (path === '/' || path === '/robots.txt' || (path === '/metrics' && servesMetrics) || wellKnown.has(path) ? path : 'other');
  const oauth = createOAuthRouter(ctx, { rateLimiter: ctx.rateLimiter, clientIp });

  const requestLog = requestLogger(log);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    setCorsHeaders(res);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const isXrpc = path.startsWith('/xrpc/');
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      requestLog.info({ method: req.method, [isXrpc ? 'nsid' : 'path']: isXrpc ? path.slice(6, 200) : path.slice(0, 200), status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
      if (metrics && !isXrpc) metrics.countRoute(routeLabel(path), res.statusCode);
    });
    if (req.method === 'OPTIONS') return answerPreflight(req, res);
    // RFC 9449 §8: every answer to a request carrying a DPoP proof brings the current nonce.
    if (req.headers.dpop !== undefined) res.setHeader('DPoP-Nonce', ctx.oauth.nonces.current());
    if (isXrpc) {
      const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      void controller(req, res, path.slice(6), query);
      return;
    }
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) return sendText(res, BANNER);
    if (path === '/metrics' && servesMetrics) return metricsRoute(req, res);
    if (path === '/robots.txt' && (req.method === 'GET' || req.method === 'HEAD')) {
      return sendText(res, '# Hello!\n\n# Crawling the public API is allowed\nUser-agent: *\nAllow: /\n');
    }
    if (oauth.handle(req, res, path, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)))) return;
    const route = wellKnown.get(path);
    if (route && (req.method === 'GET' || req.method === 'HEAD')) {
      Promise.resolve(route(req, res)).catch((err: unknown) => {
        const xrpcError = err instanceof XrpcError ? err : undefined;
        if (!xrpcError) log.error({ err, path }, 'unexpected error in route');
        if (!res.headersSent) sendError(res, xrpcError ?? new XrpcError(500, 'InternalServerError', 'Internal Server Error'));
      });
      return;
    }
    sendError(res, new XrpcError(404, 'NotFound', 'Not Found'));
  };

  // No total request timeout: a large repo import or blob upload may take as long as it needs.
  // Headers must arrive within 70 s; bodies are bounded by the XRPC controller instead (a JSON body
  // within 5 minutes, a streamed one with no 60-second stall; see xrpc/body.ts).
  const server: HttpServer = http.createServer({ keepAliveTimeout: 65_000, headersTimeout: 70_000, requestTimeout: 0 }, onRequest);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!path.startsWith('/xrpc/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"NotFound","message":"Not Found"}');
      return;
    }
    void subscriptions.upgrade(req, socket, head, path.slice(6), new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"error":"InvalidRequest","message":"Malformed HTTP request"}');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.service.port, config.service.bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  log.info(
    { url, hostname: config.service.hostname, did: config.service.did, version: config.version, node: process.version, build: RUNNING_FROM },
    'squall listening',
  );
  let localPlc: LocalPlcServer | undefined;
  if (ctx.localPlc && config.identity.localPlc) {
    try {
      localPlc = await startLocalPlcServer(ctx.localPlc, { port: config.identity.localPlc.port, host: config.service.bindHost, log });
    } catch (err) {
      server.close();
      throw err;
    }
    log.info({ plcUrl: localPlc.url }, `local playground: DIDs are registered in the built-in PLC directory at ${localPlc.url}, not on the public network`);
  }
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
  if (metricsRoute && config.metrics.listen) {
    try {
      metricsListener = await startMetricsListener(metricsRoute, config.metrics.listen.host, config.metrics.listen.port);
    } catch (err) {
      server.close();
      await localPlc?.close();
      throw err;
    }
    log.info({ url: metricsListener.url }, 'metrics listening');
    const reach = classifyIp(config.metrics.listen.host);
    if (reach === 'public' || reach === 'unspecified') {
      log.warn({ url: metricsListener.url }, 'the metrics listener asks no credentials and is reachable beyond this machine: bind PDS_METRICS_LISTEN to a loopback or private address, or firewall its port');
    }
  }

  let closing: Promise<void> | undefined;
  const close = (graceMs = 10_000) => {
    closing ??= (async () => {
      log.info('shutting down: no new connections, finishing requests in flight');
      subscriptions.close();
      await localPlc?.close();
      metricsListener?.server.close();
      metricsListener?.server.closeAllConnections();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await stopped;
      clearTimeout(timer);
      proxy.close();
      await ctx.close();
      log.info('shutdown complete');
    })();
    return closing;
  };
  return { url, port: address.port, ctx, streams, metricsUrl: metricsListener?.url, close, ...(localPlc ? { plcUrl: localPlc.url } : {}) };
}

function sendText(res: ServerResponse, text: string): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
