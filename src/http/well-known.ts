import type { IncomingMessage, ServerResponse } from 'node:http';
import { accountStatus } from '../accounts/account-store.ts';
import { serviceDomainOf } from '../accounts/handle-policy.ts';
import type { AppContext } from '../context.ts';
import { isValidHandle } from '../syntax/index.ts';

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
  // Handle resolution over HTTPS for handles under our own domains: the request's Host is the
  // handle. As the official PDS does, only those domains are answered, and only for accounts
  // that are active (a deactivated or taken-down account's handle resolves nowhere).
  routes.set('/.well-known/atproto-did', (req, res) => {
    const handle = handleFromHost(req.headers.host);
    const account =
      handle !== undefined && serviceDomainOf(handle, ctx.config.service.handleDomains) !== undefined ? ctx.accounts.byHandle(handle) : undefined;
    if (account === undefined || accountStatus(account) !== 'active') {
      sendPlain(res, 404, 'User not found');
      return;
    }
    sendPlain(res, 200, account.did);
  });
  return routes;
}

/** The hostname of a Host header, lower-cased, without port or trailing dot; undefined unless a handle. */
export function handleFromHost(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const name = host.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase();
  return isValidHandle(name) ? name : undefined;
}

function sendPlain(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
