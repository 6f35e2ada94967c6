// The page shell: one stylesheet, no scripts, and the security headers every page carries (a
// strict CSP with `frame-ancestors 'none'`, no referrer, no caching).
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { html, type Html } from './html.ts';
import { STYLESHEET_CSS } from './style.ts';

export const STYLESHEET = Buffer.from(STYLESHEET_CSS);
export const STYLESHEET_PATH = `/oauth/assets/style.css`;
const STYLESHEET_VERSION = createHash('sha256').update(STYLESHEET).digest('base64url').slice(0, 12);

export interface PageOptions {
  title: string;
  /** Shown above the card: which server this is. */
  serverName: string;
  body: Html;
  status?: number;
  /** Where this page's forms may end up besides this server (the client's redirect URI). */
  formTargets?: readonly string[];
}

export function sendPage(res: ServerResponse, page: PageOptions): void {
  const document = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · ${page.serverName}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}?v=${STYLESHEET_VERSION}">
</head>
<body>
<header class="site"><strong>${page.serverName}</strong></header>
<main id="main">
${page.body}
</main>
</body>
</html>
`.value;
  res.statusCode = page.status ?? 200;
  setPageHeaders(res, page.formTargets ?? []);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(document));
  res.end(document);
}

export function setPageHeaders(res: ServerResponse, formTargets: readonly string[]): void {
  // Pages are for this origin's browser sessions only: no cross-origin reads.
  res.removeHeader('Access-Control-Allow-Origin');
  res.removeHeader('Access-Control-Expose-Headers');
  const formAction = ["'self'", ...formTargets.map(cspSource).filter((s) => s !== undefined)].join(' ');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // same-origin, not no-referrer: with no-referrer, browsers send "Origin: null" on our own form posts.
  res.setHeader('Referrer-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  res.setHeader('Cache-Control', 'no-store');
}

/**
 * The CSP source that allows a form (or its redirect) to reach `target`: its origin, or for a
 * private-use scheme (`com.example.app:/cb`) the scheme. Browsers check `form-action` on the
 * redirect that follows a form post, and consent ends in one to the client.
 */
function cspSource(target: string): string | undefined {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    // Loopback redirect URIs may arrive on any port.
    if (url.hostname === '127.0.0.1' || url.hostname === '[::1]') return `${url.protocol}//${url.hostname}:*`;
    return url.origin;
  }
  return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? url.protocol : undefined;
}

export function sendStylesheet(res: ServerResponse): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/css; charset=utf-8');
  res.setHeader('Cache-Control', 'public, max-age=86400');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', STYLESHEET.length);
  res.end(STYLESHEET);
}
