import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { basicAuth, startTestServer, type TestServer } from './helpers/server.ts';

const lines: string[] = [];
const logStream = new Writable({
  write(chunk, _enc, cb) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    cb();
  },
});

let server: TestServer;
before(async () => {
  server = await startTestServer({}, { logStream });
});
after(() => server.close());

const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

describe('the XRPC surface of a running server', () => {
  it('answers _health publicly with its version', async () => {
    const res = await get('/xrpc/_health');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; version: string };
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
  });

  it('answers describeServer with the service DID and user domains', async () => {
    const body = (await (await get('/xrpc/com.atproto.server.describeServer')).json()) as Record<string, unknown>;
    assert.equal(body.did, 'did:web:localhost');
    assert.deepEqual(body.availableUserDomains, ['.test']);
    assert.equal(body.inviteCodeRequired, false);
  });

  it('accepts the admin password as Basic admin:<password> and as a Bearer token', async () => {
    for (const authorization of [basicAuth(server.adminPassword), `Bearer ${server.adminPassword}`]) {
      const res = await get('/xrpc/_admin/status', { headers: { authorization } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { counts: { accounts: number }; storage: { walCheckpoints: unknown }; config: { secrets: Record<string, string> }; uptimeSeconds: number };
      assert.equal(body.counts.accounts, 0);
      assert.deepEqual(body.storage.walCheckpoints, { worker: 0, finished: 0 }, 'no WAL checkpoint yet on a new server');
      assert.equal(typeof body.uptimeSeconds, 'number');
      assert.doesNotMatch(JSON.stringify(body), new RegExp(server.adminPassword));
      assert.equal(body.config.secrets.adminPassword, '[redacted]');
    }
  });

  it('refuses admin status without, or with a wrong, credential', async () => {
    const none = await get('/xrpc/_admin/status');
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: string }).error, 'AuthenticationRequired');
    for (const authorization of [basicAuth('nope'), basicAuth(server.adminPassword, 'root'), 'Bearer nope', 'Digest x']) {
      const res = await get('/xrpc/_admin/status', { headers: { authorization } });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'InvalidToken');
      assert.ok(res.headers.get('www-authenticate'));
    }
  });

  it('answers HEAD on a query like GET, without a body', async () => {
    const res = await get('/xrpc/com.atproto.server.describeServer', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  it('answers CORS preflights with the headers clients send', async () => {
    const res = await get('/xrpc/com.atproto.server.createSession', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, x-custom' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const allowed = res.headers.get('access-control-allow-headers') ?? '';
    for (const header of ['authorization', 'content-type', 'dpop', 'atproto-proxy', 'atproto-accept-labelers', 'x-custom']) {
      assert.ok(allowed.includes(header), `${header} allowed`);
    }
    const normal = await get('/xrpc/_health');
    assert.equal(normal.headers.get('access-control-allow-origin'), '*');
    assert.match(normal.headers.get('access-control-expose-headers') ?? '', /RateLimit-Remaining.*DPoP-Nonce/);
  });

  it('serves a banner at /, robots.txt, and JSON 404s elsewhere', async () => {
    const root = await get('/');
    assert.match(root.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await root.text(), /AT Protocol/);
    assert.match(await (await get('/robots.txt')).text(), /User-agent/);
    const missing = await get('/some/page');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await missing.json()) as { error: string }).error, 'NotFound');
  });

  it('refuses a WebSocket upgrade on an unknown method with an error, not a hang', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/xrpc/com.example.nope`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    assert.equal(status, 404);
  });

  it('writes one structured log line per request, without credentials', async () => {
    await get('/xrpc/_admin/status', { headers: { authorization: basicAuth(server.adminPassword) } });
    await new Promise((r) => setTimeout(r, 20));
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.msg === 'request');
    const entry = entries.find((e) => e.nsid === '_admin/status' && e.status === 200);
    assert.ok(entry, 'a request line for _admin/status');
    assert.equal(entry.method, 'GET');
    assert.equal(typeof entry.ms, 'number');
    assert.doesNotMatch(lines.join('\n'), new RegExp(server.adminPassword));
  });
});

describe('health when storage breaks', () => {
  it('answers 503 with a reason when a storage directory is not writable', async () => {
    const broken = await startTestServer();
    try {
      rmSync(broken.server.ctx.config.storage.blobDir, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 1100));
      const res = await fetch(`${broken.url}/xrpc/_health`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as { error: string; message: string };
      assert.match(body.message, /not writable/);
    } finally {
      await broken.close();
    }
  });
});

describe('boot', () => {
  it('stops with one line naming the variable when the config is bad', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: { ...process.env, PDS_PORT: 'eighty', PDS_DATA_DIRECTORY: '/tmp/squall-never-created' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.notEqual(result.status, 0);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /PDS_PORT/);
  });
});
