import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.ts';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Routes outside /xrpc/ that the protocol defines (`/.well-known/...`), by exact path. */
export function wellKnownRoutes(ctx: AppContext): Map<string, Route> {
  const routes = new Map<string, Route>();
  routes.set('/.well-known/did.json', (_req, res) => {
    const { service } = ctx.config;
    if (!service.did.startsWith('did:web:')) {
      sendJson(res, 404, { error: 'NotFound', message: 'This server is not identified by a did:web' });
      return;
    }
    sendJson(res, 200, {
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: service.did,
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: service.publicUrl }],
    });
  });
  return routes;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
