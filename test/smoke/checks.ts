/**
 * The black-box smoke checks, as data. The Node runner (`npm run smoke`) executes them and the
 * hurl file (test/smoke/xrpc.hurl) is generated from them, so the two cannot drift apart.
 */
export interface SmokeCheck {
  name: string;
  method: 'GET' | 'POST' | 'OPTIONS' | 'HEAD';
  path: string;
  headers?: Record<string, string>;
  /** Use the admin credential: `basic` (admin:<password>) or a wrong one. */
  admin?: 'basic' | 'bearer' | 'wrong';
  body?: string;
  expect: {
    status: number;
    error?: string;
    /** Top-level JSON fields that must have these values. */
    json?: Record<string, string | number | boolean>;
    /** Top-level JSON fields that must exist. */
    present?: string[];
    headers?: Record<string, string>;
  };
}

/** A JSON body over the 16 KiB limit of createSession. */
export const OVERSIZED_BODY = JSON.stringify({ identifier: 'x'.repeat(20_000), password: 'x' });

export const checks: SmokeCheck[] = [
  { name: 'health answers ok', method: 'GET', path: '/xrpc/_health', expect: { status: 200, json: { status: 'ok' }, present: ['version'] } },
  {
    name: 'describeServer names the service DID and user domains',
    method: 'GET',
    path: '/xrpc/com.atproto.server.describeServer',
    expect: { status: 200, present: ['did', 'availableUserDomains', 'inviteCodeRequired'] },
  },
  {
    name: 'an unknown method is 404 MethodNotImplemented in JSON',
    method: 'GET',
    path: '/xrpc/com.example.doesNotExist',
    expect: { status: 404, error: 'MethodNotImplemented', headers: { 'content-type': 'application/json; charset=utf-8' } },
  },
  {
    name: 'a POST on a query is 400 InvalidRequest',
    method: 'POST',
    path: '/xrpc/com.atproto.server.describeServer',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    expect: { status: 400, error: 'InvalidRequest' },
  },
  {
    name: 'a GET on a procedure is 400 InvalidRequest',
    method: 'GET',
    path: '/xrpc/com.atproto.server.createSession',
    expect: { status: 400, error: 'InvalidRequest' },
  },
  {
    name: 'a JSON procedure with another content type is 400 InvalidRequest',
    method: 'POST',
    path: '/xrpc/com.atproto.server.createSession',
    headers: { 'content-type': 'text/plain' },
    body: 'hello',
    expect: { status: 400, error: 'InvalidRequest' },
  },
  {
    name: 'malformed JSON is 400 InvalidRequest',
    method: 'POST',
    path: '/xrpc/com.atproto.server.createSession',
    headers: { 'content-type': 'application/json' },
    body: '{"identifier":',
    expect: { status: 400, error: 'InvalidRequest' },
  },
  {
    name: 'an oversized body is 413 PayloadTooLarge',
    method: 'POST',
    path: '/xrpc/com.atproto.server.createSession',
    headers: { 'content-type': 'application/json' },
    body: OVERSIZED_BODY,
    expect: { status: 413, error: 'PayloadTooLarge' },
  },
  {
    name: 'a wrong login is 401 AuthenticationRequired',
    method: 'POST',
    path: '/xrpc/com.atproto.server.createSession',
    headers: { 'content-type': 'application/json' },
    body: '{"identifier":"nobody.invalid","password":"wrong-password"}',
    expect: { status: 401, error: 'AuthenticationRequired' },
  },
  {
    name: 'admin status without a credential is 401 AuthenticationRequired',
    method: 'GET',
    path: '/xrpc/_admin/status',
    expect: { status: 401, error: 'AuthenticationRequired' },
  },
  {
    name: 'admin status with a wrong credential is 401 InvalidToken',
    method: 'GET',
    path: '/xrpc/_admin/status',
    admin: 'wrong',
    expect: { status: 401, error: 'InvalidToken' },
  },
  {
    name: 'admin status with the admin password answers counts',
    method: 'GET',
    path: '/xrpc/_admin/status',
    admin: 'basic',
    expect: { status: 200, present: ['version', 'uptimeSeconds', 'counts', 'storage', 'config'] },
  },
  {
    name: 'a CORS preflight is 204 with the allowed headers',
    method: 'OPTIONS',
    path: '/xrpc/com.atproto.server.createSession',
    headers: { origin: 'https://example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,dpop' },
    expect: { status: 204, headers: { 'access-control-allow-origin': '*' } },
  },
  {
    name: 'paths outside /xrpc/ are JSON 404s',
    method: 'GET',
    path: '/nothing/here',
    expect: { status: 404, error: 'NotFound' },
  },
];
