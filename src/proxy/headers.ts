// The headers that cross the proxy, both ways. Only the ones an upstream needs go up: never the
// client's own authorization, cookies or DPoP proof (the upstream gets a service token instead).
// Only the ones clients rely on come back.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Request headers passed up as they came (besides the body's own, below). */
const FORWARDED_REQUEST_HEADERS = ['accept-language', 'atproto-accept-labelers', 'x-bsky-topics'] as const;
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-length'] as const;

/** Answer headers passed back with an upstream's answer, errors included. */
const PASSED_BACK = ['atproto-repo-rev', 'atproto-content-labelers', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy'] as const;

/** Everything passed back with a successful answer: its content headers too. */
export const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', ...PASSED_BACK] as const;

/**
 * The upstream request's headers. `acceptEncoding` overrides the client's (for answers the PDS
 * may have to read itself); without a body, none of the body headers.
 */
export function upstreamRequestHeaders(req: IncomingMessage, token: string, withBody: boolean, acceptEncoding?: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    authorization: `Bearer ${token}`,
    'accept-encoding': acceptEncoding ?? req.headers['accept-encoding'] ?? 'identity',
  };
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  if (withBody) {
    for (const name of BODY_HEADERS) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    // Without a declared length the body goes up chunked, as it came.
    if (headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked';
  }
  return headers;
}

export function copyResponseHeaders(from: IncomingHttpHeaders, res: ServerResponse): void {
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = from[name];
    if (value !== undefined) res.setHeader(name, value);
  }
}

export function errorResponseHeaders(from: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of PASSED_BACK) {
    const value = from[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
