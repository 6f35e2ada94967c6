import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** Why a request got no answer, in words an operator can act on. */
export class RequestFailedError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in a self-signed certificate no one trusts',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not issued by a trusted authority (or the intermediate certificates are missing)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is not issued by a trusted authority (or the intermediate certificates are missing)',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another name',
};

export interface RequestOptions {
  /** Trust store (default: Node's bundled authorities, as every app and relay checks it). */
  ca?: string[];
  /** The whole exchange, connection to last byte. Default 5 s. */
  timeoutMs?: number;
  maxBytes?: number;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  /** A JSON body (POST). */
  json?: unknown;
}

/**
 * One request with Node's own HTTP(S) client, so a certificate is checked against `ca` and a bad
 * one is told apart from an unreachable host. The whole exchange has a deadline and the body a
 * cap. For operator-configured URLs (the public URL, PLC, relays, the AppView) only: anything a
 * user or a DID document names goes through the guarded fetch (src/net/safe-fetch.ts).
 */
export function request(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  const parsed = new URL(url);
  const client = parsed.protocol === 'https:' ? https : http;
  const maxBytes = options.maxBytes ?? 256 * 1024;
  const timeoutMs = options.timeoutMs ?? 5000;
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'squall-doctor', ...options.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = client.request(parsed, { method: options.method ?? 'GET', ca: options.ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) req.destroy(new RequestFailedError(`the answer is larger than ${maxBytes} bytes`, 'TOO_LARGE'));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(deadline);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => fail(err));
    });
    const fail = (err: Error) => {
      clearTimeout(deadline);
      reject(describe(err));
    };
    const deadline = setTimeout(() => req.destroy(new RequestFailedError(`no complete answer within ${timeoutMs / 1000} s`, 'TIMEOUT')), timeoutMs);
    req.on('error', fail);
    req.end(body);
  });
}

/** GET, as `request`. */
export const getText = (url: string, options: Omit<RequestOptions, 'method' | 'json'> = {}) => request(url, options);

function describe(err: Error): RequestFailedError {
  if (err instanceof RequestFailedError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const tls = code ? TLS_REASONS[code] : undefined;
  if (tls) return new RequestFailedError(`${tls} (${code})`, code);
  if (code === 'ECONNREFUSED') return new RequestFailedError('the connection was refused (nothing listens there)', code);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RequestFailedError('the host name does not resolve', code);
  return new RequestFailedError(`${err.message}${code ? ` (${code})` : ''}`, code);
}

export function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks `url` for a WebSocket upgrade, as a relay subscribing to the firehose does; resolves to
 * the status that came back (101 when the upgrade went through), closing the socket at once.
 */
export function upgradeStatus(url: string, options: Pick<RequestOptions, 'ca' | 'timeoutMs'> = {}): Promise<number> {
  const parsed = new URL(url);
  const client = parsed.protocol === 'https:' ? https : http;
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const req = client.request(parsed, {
      ca: options.ca,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), 'user-agent': 'squall-doctor' },
    });
    const deadline = setTimeout(() => req.destroy(new RequestFailedError(`no answer within ${timeoutMs / 1000} s`, 'TIMEOUT')), timeoutMs);
    req.on('upgrade', (res, socket) => {
      clearTimeout(deadline);
      socket.destroy();
      resolve(res.statusCode ?? 101);
    });
    req.on('response', (res) => {
      clearTimeout(deadline);
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(describe(err));
    });
    req.end();
  });
}
