// Every OAuth route outside /xrpc/, in one table: metadata, the client-facing endpoints (JSON,
// CORS), the authorization pages (HTML, same-origin only) and their stylesheet.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../../context.ts';
import type { RateLimiter } from '../../xrpc/index.ts';
import { OAuthError } from '../errors.ts';
import { errorBody } from '../pages/authorize-pages.ts';
import { sendStylesheet, STYLESHEET_PATH } from '../pages/layout.ts';
import { ReplayQuotaError, ReplayStoreFullError } from '../replay.ts';
import { getAccountPage, postAccount } from './account.ts';
import { getAuthorize, postConsent, postSelect, postSignIn } from './authorize.ts';
import { DeviceSessions } from './devices.ts';
import { handlePar, handleRevoke, handleToken } from './endpoints.ts';
import { sendOAuthError, sendOAuthJson } from './io.ts';
import { accountDirectory } from './account-directory.ts';
import { page, type PagesContext } from './pages-context.ts';
import { PendingSignIns } from './pending-sign-ins.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void> | void;

/** Paths of every OAuth route (the README's reverse-proxy section lists the same). */
export const OAUTH_PATHS = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-protected-resource',
  '/oauth/par',
  '/oauth/token',
  '/oauth/revoke',
  '/oauth/authorize',
  '/oauth/authorize/sign-in',
  '/oauth/authorize/select',
  '/oauth/authorize/consent',
  '/oauth/account',
  '/oauth/account/sign-in',
  '/oauth/account/revoke',
  '/oauth/account/sign-out',
  STYLESHEET_PATH,
] as const;

export interface OAuthRouter {
  /** Handles the request if it is an OAuth route; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean;
}

export function createOAuthRouter(ctx: AppContext, deps: { rateLimiter?: RateLimiter; clientIp: (req: IncomingMessage) => string }): OAuthRouter {
  const { oauth, log } = ctx;
  const pages: PagesContext = {
    oauth,
    devices: new DeviceSessions(oauth.store, oauth.csrfKey, oauth.issuer),
    pendingSignIns: new PendingSignIns(),
    accounts: accountDirectory(ctx, deps.rateLimiter),
    serverName: ctx.config.service.hostname,
    clientIp: deps.clientIp,
  };

  const api = (fn: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Handler => async (req, res) => {
    try {
      await fn(req, res);
    } catch (err) {
      if (err instanceof OAuthError) return sendOAuthError(res, err);
      if (err instanceof ReplayStoreFullError) return sendOAuthError(res, new OAuthError('temporarily_unavailable', 'Too many requests in flight; try again shortly', 503));
      if (err instanceof ReplayQuotaError) return sendOAuthError(res, new OAuthError('temporarily_unavailable', 'Too many requests from this client; slow down and try again shortly', 429));
      log.error({ err }, 'unexpected error in an OAuth endpoint');
      sendOAuthError(res, new OAuthError('server_error', 'Internal server error', 500));
    }
  };
  const html = (fn: Handler): Handler => async (req, res, query) => {
    try {
      await fn(req, res, query);
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof OAuthError) return page(pages, res, 'Error', errorBody('Something is wrong with this request', err.message), { status: err.status });
      log.error({ err }, 'unexpected error on an OAuth page');
      page(pages, res, 'Error', errorBody('Something went wrong', 'The server could not handle this page. Try again in a moment.'), { status: 500 });
    }
  };

  const routes = new Map<string, Partial<Record<'GET' | 'POST', Handler>>>([
    ['/.well-known/oauth-authorization-server', { GET: (_req, res) => sendOAuthJson(res, 200, oauth.authorizationServerMetadata()) }],
    ['/.well-known/oauth-protected-resource', { GET: (_req, res) => sendOAuthJson(res, 200, oauth.protectedResourceMetadata()) }],
    ['/oauth/par', { POST: api((req, res) => handlePar(oauth, req, res)) }],
    ['/oauth/token', { POST: api((req, res) => handleToken(oauth, req, res)) }],
    ['/oauth/revoke', { POST: api((req, res) => handleRevoke(oauth, req, res)) }],
    ['/oauth/authorize', { GET: html((req, res, query) => getAuthorize(pages, req, res, query)) }],
    ['/oauth/authorize/sign-in', { POST: html((req, res) => postSignIn(pages, req, res)) }],
    ['/oauth/authorize/select', { POST: html((req, res) => postSelect(pages, req, res)) }],
    ['/oauth/authorize/consent', { POST: html((req, res) => postConsent(pages, req, res)) }],
    ['/oauth/account', { GET: html((req, res, query) => getAccountPage(pages, req, res, query)) }],
    ['/oauth/account/sign-in', { POST: html((req, res) => postAccount(pages, req, res, 'sign-in')) }],
    ['/oauth/account/revoke', { POST: html((req, res) => postAccount(pages, req, res, 'revoke')) }],
    ['/oauth/account/sign-out', { POST: html((req, res) => postAccount(pages, req, res, 'sign-out')) }],
    [STYLESHEET_PATH, { GET: (_req, res) => sendStylesheet(res) }],
  ]);

  return {
    handle(req, res, path, query) {
      const route = routes.get(path);
      if (route === undefined) return false;
      const method = req.method === 'HEAD' ? 'GET' : (req.method as 'GET' | 'POST');
      const handler = route[method];
      if (handler === undefined) {
        res.setHeader('Allow', Object.keys(route).join(', '));
        sendOAuthError(res, new OAuthError('invalid_request', `${req.method} is not allowed here`, 405));
        return true;
      }
      void Promise.resolve(handler(req, res, query)).catch((err: unknown) => {
        log.error({ err, path }, 'unexpected error in an OAuth route');
        if (!res.headersSent) sendOAuthError(res, new OAuthError('server_error', 'Internal server error', 500));
      });
      return true;
    },
  };
}
