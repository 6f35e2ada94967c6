import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { http } from '../net/node-http.ts';
import type { AddressInfo } from 'node:net';
import { createAdminVerifier } from '../auth/admin.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { sendError, XrpcError } from '../xrpc/index.ts';

export type MetricsRoute = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * `GET /metrics` in the Prometheus text format. On the main port it needs the admin credential
 * (`adminPassword`); on the separate metrics listener (PDS_METRICS_LISTEN) it is open, that
 * address being the operator's private one.
 */
export function createMetricsRoute(metrics: Metrics, adminPassword: string | undefined): MetricsRoute {
  const checkAdmin = adminPassword === undefined ? undefined : createAdminVerifier(adminPassword);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, new XrpcError(405, 'InvalidRequest', 'Use GET /metrics'));
      return;
    }
    try {
      checkAdmin?.({ nsid: 'metrics', req, ip: '', params: {} });
    } catch (err) {
      sendError(res, err instanceof XrpcError ? err : new XrpcError(401, 'AuthenticationRequired', 'Admin credentials required'), req.method === 'HEAD');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.setHeader('Content-Length', Buffer.byteLength(body));
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => {
        if (!res.headersSent) sendError(res, new XrpcError(500, 'InternalServerError', 'Internal Server Error'));
      },
    );
  };
}

/** The separate metrics listener: GET /metrics and nothing else. */
export async function startMetricsListener(route: MetricsRoute, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = http.createServer({ requestTimeout: 30_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/metrics') return route(req, res);
    sendError(res, new XrpcError(404, 'NotFound', 'Not Found'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { server, url: `http://${shown}:${address.port}/metrics` };
}
