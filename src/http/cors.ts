import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers browsers may read from our answers (rate limits, DPoP nonces, auth challenges). */
const EXPOSED = [
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'RateLimit-Policy',
  'Retry-After',
  'DPoP-Nonce',
  'WWW-Authenticate',
  'atproto-repo-rev',
  'atproto-content-labelers',
  'Atproto-Upstream-Lag',
].join(', ');

/** Headers clients send that a preflight must allow, whatever the browser lists. */
const ALLOWED = [
  'authorization',
  'content-type',
  'dpop',
  'atproto-proxy',
  'atproto-accept-labelers',
  'atproto-content-labelers',
];

export function setCorsHeaders(res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', EXPOSED);
}

/** Answers a CORS preflight with 204. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  const requested = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => /^[a-z0-9-]{1,64}$/.test(h));
  const headers = [...new Set([...ALLOWED, ...requested])].join(', ');
  res.statusCode = 204;
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', headers);
  res.setHeader('Access-Control-Max-Age', '86400');
  res.setHeader('Content-Length', '0');
  res.end();
}
