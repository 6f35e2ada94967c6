// Reading and writing for the OAuth routes: small form (or JSON) bodies with a size limit and no
// repeated parameters, JSON answers that are never cached, OAuth error bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OAuthError } from '../errors.ts';

const MAX_BODY_BYTES = 64 * 1024;

/** The request's parameters: `application/x-www-form-urlencoded` (what OAuth uses) or JSON. */
export async function readParams(req: IncomingMessage): Promise<Record<string, string>> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) throw new OAuthError('invalid_request', 'Request body too large', 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new OAuthError('invalid_request', 'Request body too large', 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const params: Record<string, string> = Object.create(null);
  if (type === 'application/x-www-form-urlencoded') {
    for (const [name, value] of new URLSearchParams(text)) {
      if (name in params) throw new OAuthError('invalid_request', `Parameter "${name.slice(0, 64)}" is repeated`);
      params[name] = value;
    }
    return params;
  }
  if (type === 'application/json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new OAuthError('invalid_request', 'Request body is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OAuthError('invalid_request', 'Request body must be a JSON object');
    for (const [name, item] of Object.entries(value)) {
      if (typeof item !== 'string') throw new OAuthError('invalid_request', `Parameter "${name.slice(0, 64)}" must be a string`);
      params[name] = item;
    }
    return params;
  }
  throw new OAuthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
}

export function sendOAuthJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function sendOAuthError(res: ServerResponse, err: OAuthError): void {
  const headers: Record<string, string> = {};
  if (err.code === 'use_dpop_nonce' || err.code === 'invalid_dpop_proof') {
    headers['WWW-Authenticate'] = `DPoP error="${err.code}", error_description="${err.message.replace(/["\\]/g, '')}"`;
  }
  if (err.status === 401 && err.code === 'invalid_client') headers['WWW-Authenticate'] = 'Basic realm="oauth"';
  sendOAuthJson(res, err.status, err.toJSON(), headers);
}
