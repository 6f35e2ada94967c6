import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createXrpcController } from './controller.ts';
import { AuthRequiredError, InvalidTokenError, XrpcError } from './errors.ts';
import { MemoryRateLimiter } from './rate-limit.ts';
import { Registry } from './registry.ts';
import { BinaryOutput, EncodedJsonOutput, type MethodSchema, type SchemaSource, type ValidationResult } from './types.ts';

class DomainMissingError extends Error {}

const schemas: Record<string, MethodSchema> = {
  'test.echo.get': {
    kind: 'query',
    params: { type: 'params', properties: { n: { type: 'integer', minimum: 0 } } },
    output: { encoding: 'application/json', schema: { type: 'object' } },
    errors: ['Missing'],
  },
  'test.echo.post': {
    kind: 'procedure',
    input: { encoding: 'application/json', schema: { type: 'object' } },
    output: { encoding: 'application/json', schema: { type: 'object' } },
    errors: [],
  },
  'test.echo.upload': { kind: 'procedure', input: { encoding: '*/*' }, output: { encoding: 'application/json' }, errors: [] },
  'test.echo.bytes': { kind: 'query', output: { encoding: 'application/octet-stream' }, errors: [] },
  'test.echo.stream': { kind: 'subscription', errors: [] },
};

const source: SchemaSource = {
  getMethod: (nsid) => schemas[nsid],
  validateInput: (_nsid, value): ValidationResult =>
    typeof value === 'object' && value !== null && !('bad' in value) ? { success: true, value } : { success: false, message: 'Input/bad is not allowed' },
  validateOutput: (_nsid, value): ValidationResult =>
    typeof value === 'object' && value !== null && !('drift' in value) ? { success: true, value } : { success: false, message: 'Output/drift is not allowed' },
};

const logged: unknown[] = [];
const log = { info() {}, warn() {}, error: (obj: object) => void logged.push(obj) };
let server: Server;
let base: string;

before(async () => {
  const registry = new Registry<object, string>({
    schemas: source,
    formats: {},
    defaultJsonLimit: 1024,
    verifiers: {
      user: (info) => {
        const header = info.req.headers.authorization;
        if (!header) throw new AuthRequiredError();
        if (header !== 'Bearer good') throw new InvalidTokenError();
        return 'alice';
      },
    },
  });
  registry.add({
    nsid: 'test.echo.get',
    auth: 'none',
    rateLimits: [{ name: 'echo', points: 1000, windowMs: 60_000 }],
    handler: ({ params }) => {
      if (params.n === 1) throw new XrpcError(404, 'Missing', 'nothing here');
      if (params.n === 2) throw new XrpcError(400, 'Undeclared', 'oops');
      if (params.n === 3) throw new Error('secret internal detail');
      if (params.n === 4) return { drift: true };
      if (params.n === 5) throw new DomainMissingError();
      if (params.n === 6) return new EncodedJsonOutput(Buffer.from('{"encoded":true,"text":"é😀"}'));
      if (params.n === 8) return new EncodedJsonOutput(Buffer.from('{"drift":true}'));
      return { params };
    },
  });
  registry.add({ nsid: 'test.echo.post', auth: 'user', handler: ({ input, auth }) => ({ input, auth }) });
  registry.add({
    nsid: 'test.echo.upload',
    auth: 'none',
    maxBodyBytes: 10_000,
    handler: async ({ input }) => {
      let size = 0;
      for await (const chunk of input as AsyncIterable<Buffer>) size += chunk.length;
      return { size };
    },
  });
  registry.add({ nsid: 'test.echo.bytes', auth: 'none', handler: () => new BinaryOutput('application/octet-stream', new Uint8Array([1, 2, 3])) });
  registry.add({ nsid: 'test.echo.stream', auth: 'none', subscription: async function* () {} });
  const controller = createXrpcController(registry, {
    ctx: {},
    schemas: source,
    log,
    clientIp: (req) => req.socket.remoteAddress ?? '',
    mapError: (err) => (err instanceof DomainMissingError ? new XrpcError(404, 'Missing', 'mapped from the domain') : undefined),
    rateLimiter: new MemoryRateLimiter(),
    strict: true,
  });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    void controller(req, res, url.pathname.slice(6), url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}/xrpc/${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

function assertError(res: { status: number; json: { error: string; message: string } | undefined; headers: Headers }, status: number, error: string) {
  assert.equal(res.status, status);
  assert.equal(res.json?.error, error);
  assert.equal(typeof res.json?.message, 'string');
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
}

describe('the XRPC controller', () => {
  it('answers a query with its typed parameters', async () => {
    const res = await call('test.echo.get?n=7');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { params: { n: 7 } });
    assert.ok(res.headers.get('ratelimit-limit'));
  });

  it('answers HEAD on a query like GET without a body', async () => {
    const res = await call('test.echo.get?n=7', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
  });

  it('sends an already encoded JSON answer as it is, and HEAD with its length and no body', async () => {
    const res = await call('test.echo.get?n=6');
    assert.equal(res.status, 200);
    assert.equal(res.text, '{"encoded":true,"text":"é😀"}');
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(res.text)));
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const head = await call('test.echo.get?n=6', { method: 'HEAD' });
    assert.equal(head.text, '');
    assert.equal(head.headers.get('content-length'), res.headers.get('content-length'));
  });

  it('in strict mode, validates an encoded answer as sent: drift is a 500', async () => {
    assertError(await call('test.echo.get?n=8'), 500, 'InternalServerError');
  });

  it('answers 404 MethodNotImplemented for unknown and malformed NSIDs', async () => {
    assertError(await call('test.echo.nope'), 404, 'MethodNotImplemented');
    assertError(await call('not an nsid!!'), 404, 'MethodNotImplemented');
  });

  it('refuses POST on a query and GET on a procedure with 400 InvalidRequest', async () => {
    assertError(await call('test.echo.get', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), 400, 'InvalidRequest');
    assertError(await call('test.echo.post', { headers: { authorization: 'Bearer good' } }), 400, 'InvalidRequest');
  });

  it('refuses a JSON procedure without a body, with another content type, or with malformed JSON', async () => {
    const auth = { authorization: 'Bearer good' };
    assertError(await call('test.echo.post', { method: 'POST', headers: auth }), 400, 'InvalidRequest');
    assertError(await call('test.echo.post', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{}' }), 400, 'InvalidRequest');
    assertError(await call('test.echo.post', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{nope' }), 400, 'InvalidRequest');
  });

  it('checks the content type before auth, and auth before the body', async () => {
    assertError(await call('test.echo.post', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }), 400, 'InvalidRequest');
    const res = await call('test.echo.post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    assertError(res, 401, 'AuthenticationRequired');
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  it('answers 401 InvalidToken for a wrong credential', async () => {
    const res = await call('test.echo.post', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bad' }, body: '{}' });
    assertError(res, 401, 'InvalidToken');
  });

  it('validates the body against the input schema', async () => {
    const headers = { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer good' };
    assertError(await call('test.echo.post', { method: 'POST', headers, body: '{"bad":1}' }), 400, 'InvalidRequest');
    const ok = await call('test.echo.post', { method: 'POST', headers, body: '{"x":1}' });
    assert.deepEqual(ok.json, { input: { x: 1 }, auth: 'alice' });
  });

  it('refuses a declared oversized body with 413 before reading it', async () => {
    const res = await call('test.echo.post', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer good' },
      body: JSON.stringify({ pad: 'x'.repeat(2000) }),
    });
    assertError(res, 413, 'PayloadTooLarge');
  });

  it('finds an oversized chunked body while streaming and answers 413', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/xrpc/test.echo.upload`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      let sent = 0;
      const pump = () => {
        while (sent < 200_000) {
          sent += 1000;
          if (!req.write(Buffer.alloc(1000))) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }).catch(() => 413);
    assert.equal(status, 413);
  });

  it('streams a body under the limit to the handler', async () => {
    const res = await call('test.echo.upload', { method: 'POST', headers: { 'content-type': 'image/png' }, body: Buffer.alloc(5000) });
    assert.deepEqual(res.json, { size: 5000 });
  });

  it('renders declared errors, maps domain errors, and hides unexpected ones', async () => {
    assertError(await call('test.echo.get?n=1'), 404, 'Missing');
    assertError(await call('test.echo.get?n=5'), 404, 'Missing');
    const internal = await call('test.echo.get?n=3');
    assertError(internal, 500, 'InternalServerError');
    assert.doesNotMatch(internal.text, /secret internal detail|at .*\.ts/);
  });

  it('turns an undeclared error name into a 500 in strict mode', async () => {
    const res = await call('test.echo.get?n=2');
    assertError(res, 500, 'InternalServerError');
    assert.match(res.json.message, /undeclared error Undeclared/);
  });

  it('turns output that drifts from the Lexicon into a 500 in strict mode', async () => {
    const res = await call('test.echo.get?n=4');
    assertError(res, 500, 'InternalServerError');
    assert.match(res.json.message, /does not match its Lexicon/);
  });

  it('answers 400 for bad parameters', async () => {
    assertError(await call('test.echo.get?n=-1'), 400, 'InvalidRequest');
    assertError(await call('test.echo.get?n=abc'), 400, 'InvalidRequest');
  });

  it('sends binary output with its encoding', async () => {
    const res = await fetch(`${base}/xrpc/test.echo.bytes`);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), new Uint8Array([1, 2, 3]));
  });

  it('answers 426 with JSON for a plain GET on a subscription', async () => {
    assertError(await call('test.echo.stream'), 426, 'InvalidRequest');
  });
});
