import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ForbiddenAddressError, SafeFetchError, createSafeFetch, safeFetch, safeFetchStream, type HostResolver } from './safe-fetch.ts';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function startServer(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  return new Promise<{ server: http.Server; port: number; seen: Seen[] }>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port, seen }));
  });
}

async function rejection(promise: Promise<unknown>): Promise<SafeFetchError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SafeFetchError, `expected a SafeFetchError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to fail');
}

const toLoopback: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];

describe('safeFetch against a local server (private network allowed)', () => {
  let main: Awaited<ReturnType<typeof startServer>>;
  let other: Awaited<ReturnType<typeof startServer>>;
  const open = { allowPrivateNetwork: true };

  before(async () => {
    other = await startServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null }));
    });
    main = await startServer((req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/hello':
          res.setHeader('content-type', 'text/plain');
          res.end('hello world');
          return;
        case '/echo':
          res.end(JSON.stringify({ method: req.method, body, type: req.headers['content-type'] ?? null }));
          return;
        case '/redirect':
          res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/hello' }).end();
          return;
        case '/loop':
          res.writeHead(302, { location: '/loop' }).end();
          return;
        case '/big':
          res.setHeader('content-length', '2000000');
          res.end(Buffer.alloc(2_000_000, 0x61));
          return;
        case '/big-chunked':
          res.write(Buffer.alloc(600_000, 0x61));
          res.end(Buffer.alloc(600_000, 0x62));
          return;
        case '/stall-body':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('partial');
          return; // never ends
        case '/stall-headers':
          return; // never answers
        default:
          res.statusCode = 404;
          res.end('not found');
      }
    });
  });

  after(() => {
    main.server.closeAllConnections();
    other.server.closeAllConnections();
    main.server.close();
    other.server.close();
  });

  test('returns status, headers and body of a GET', async () => {
    const res = await safeFetch(`http://127.0.0.1:${main.port}/hello`, open);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.text(), 'hello world');
    assert.equal(res.redirects, 0);
    assert.equal(main.seen.at(-1)?.headers['user-agent'], 'squall-pds');
  });

  test('sends a POST body with its content length', async () => {
    const res = await safeFetch(`http://127.0.0.1:${main.port}/echo`, {
      ...open,
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":"é"}',
    });
    assert.deepEqual(res.json(), { method: 'POST', body: '{"a":"é"}', type: 'application/json' });
    assert.equal(main.seen.at(-1)?.headers['content-length'], String(Buffer.byteLength('{"a":"é"}')));
  });

  test('returns a 404 as a response, not an error', async () => {
    const res = await safeFetch(`http://127.0.0.1:${main.port}/missing`, open);
    assert.equal(res.status, 404);
    assert.equal(res.text(), 'not found');
  });

  test('follows relative redirects and reports the final URL', async () => {
    const res = await safeFetch(`http://127.0.0.1:${main.port}/redirect?to=/hello`, open);
    assert.equal(res.status, 200);
    assert.equal(res.text(), 'hello world');
    assert.equal(res.url, `http://127.0.0.1:${main.port}/hello`);
    assert.equal(res.redirects, 1);
  });

  test('drops the Authorization header when a redirect leaves the origin', async () => {
    const to = encodeURIComponent(`http://127.0.0.1:${other.port}/landing`);
    const res = await safeFetch(`http://127.0.0.1:${main.port}/redirect?to=${to}`, { ...open, headers: { authorization: 'Bearer secret' } });
    assert.deepEqual(res.json(), { path: '/landing', auth: null });
    assert.equal(main.seen.at(-1)?.headers.authorization, 'Bearer secret');
  });

  test('keeps the Authorization header on a same-origin redirect', async () => {
    const res = await safeFetch(`http://127.0.0.1:${main.port}/redirect?to=/echo`, { ...open, headers: { authorization: 'Bearer secret' } });
    assert.equal(res.status, 200);
    assert.equal(main.seen.at(-1)?.headers.authorization, 'Bearer secret');
  });

  test('turns a POST into a GET without body on 303, and keeps it on 307', async () => {
    const see = await safeFetch(`http://127.0.0.1:${main.port}/redirect?status=303&to=/echo`, { ...open, method: 'POST', body: 'x=1', headers: { 'content-type': 'text/plain' } });
    assert.deepEqual(see.json(), { method: 'GET', body: '', type: null });
    const temp = await safeFetch(`http://127.0.0.1:${main.port}/redirect?status=307&to=/echo`, { ...open, method: 'POST', body: 'x=1', headers: { 'content-type': 'text/plain' } });
    assert.deepEqual(temp.json(), { method: 'POST', body: 'x=1', type: 'text/plain' });
  });

  test('gives up after the redirect limit', async () => {
    const err = await rejection(safeFetch(`http://127.0.0.1:${main.port}/loop`, { ...open, maxRedirects: 3 }));
    assert.equal(err.reason, 'too-many-redirects');
  });

  test('returns the redirect itself in manual mode', async () => {
    const res = await safeFetch(`http://127.0.0.1:${main.port}/redirect?to=/hello`, { ...open, redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/hello');
  });

  test('refuses a redirect to a non-http scheme', async () => {
    const err = await rejection(safeFetch(`http://127.0.0.1:${main.port}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`, open));
    assert.equal(err.reason, 'forbidden-protocol');
  });

  test('checks the address again on every redirect hop', async () => {
    // Only first.test may reach loopback; its redirect to second.test must be refused.
    const to = encodeURIComponent(`http://second.test:${main.port}/hello`);
    const before = main.seen.length;
    const err = await rejection(
      safeFetch(`http://first.test:${main.port}/redirect?to=${to}`, {
        resolveHost: toLoopback,
        allowAddress: (_address, _cls, hostname) => hostname === 'first.test',
      }),
    );
    assert.ok(err instanceof ForbiddenAddressError);
    assert.equal(err.host, 'second.test');
    assert.equal(main.seen.length, before + 1);
  });

  test('connects to the address the resolver returned, sending the original Host', async () => {
    const res = await safeFetch(`http://pds.example.test:${main.port}/hello`, { ...open, resolveHost: toLoopback });
    assert.equal(res.text(), 'hello world');
    assert.equal(main.seen.at(-1)?.headers.host, `pds.example.test:${main.port}`);
  });

  test('refuses a body whose declared length is over the cap', async () => {
    const err = await rejection(safeFetch(`http://127.0.0.1:${main.port}/big`, { ...open, maxBytes: 1000 }));
    assert.equal(err.reason, 'too-large');
  });

  test('aborts a streamed body once it passes the cap', async () => {
    const err = await rejection(safeFetch(`http://127.0.0.1:${main.port}/big-chunked`, { ...open, maxBytes: 1_000_000 }));
    assert.equal(err.reason, 'too-large');
    const ok = await safeFetch(`http://127.0.0.1:${main.port}/big-chunked`, { ...open, maxBytes: 1_200_000 });
    assert.equal(ok.body.length, 1_200_000);
  });

  test('times out a body that never ends', async () => {
    const started = Date.now();
    const err = await rejection(safeFetch(`http://127.0.0.1:${main.port}/stall-body`, { ...open, timeoutMs: 300 }));
    assert.equal(err.reason, 'timeout');
    assert.ok(Date.now() - started < 2_000);
  });

  test('times out a server that never answers', async () => {
    const err = await rejection(safeFetch(`http://127.0.0.1:${main.port}/stall-headers`, { ...open, timeoutMs: 300 }));
    assert.equal(err.reason, 'timeout');
  });

  test('stops when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await rejection(safeFetch(`http://127.0.0.1:${main.port}/stall-headers`, { ...open, signal: controller.signal }));
    assert.equal(err.reason, 'aborted');
  });

  test('streams a body that the caller can read piece by piece', async () => {
    const res = await safeFetchStream(`http://127.0.0.1:${main.port}/big-chunked`, { ...open, maxBytes: 2_000_000 });
    let total = 0;
    for await (const chunk of res.body) total += (chunk as Buffer).length;
    assert.equal(total, 1_200_000);
  });

  test('createSafeFetch fixes defaults that calls can still extend', async () => {
    const fetcher = createSafeFetch({ allowPrivateNetwork: true, headers: { 'x-a': '1' } });
    await fetcher(`http://127.0.0.1:${main.port}/hello`, { headers: { 'x-b': '2' } });
    assert.equal(main.seen.at(-1)?.headers['x-a'], '1');
    assert.equal(main.seen.at(-1)?.headers['x-b'], '2');
  });
});

describe('safeFetch refusals', () => {
  let port: number;
  let hits = 0;
  let server: http.Server;

  before(async () => {
    const started = await startServer((_req, res) => {
      hits++;
      res.end('should not be reached');
    });
    server = started.server;
    port = started.port;
  });

  after(() => server.close());

  const resolvedTo = (address: string): HostResolver => async () => [{ address, family: address.includes(':') ? 6 : 4 }];

  const refused: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.10', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:192.168.0.1', 'private'],
  ];

  for (const [address, cls] of refused) {
    test(`refuses a host that resolves to ${address} (${cls})`, async () => {
      const err = await rejection(safeFetch(`http://victim.example:${port}/`, { resolveHost: resolvedTo(address) }));
      assert.ok(err instanceof ForbiddenAddressError);
      assert.equal(err.addressClass, cls);
      assert.equal(hits, 0);
    });
  }

  test('refuses IP literals in the URL, IPv4 and IPv6', async () => {
    for (const url of [`http://127.0.0.1:${port}/`, `http://[::1]:${port}/`, `http://[::ffff:7f00:1]:${port}/`, `https://169.254.169.254/latest/meta-data/`]) {
      const err = await rejection(safeFetch(url));
      assert.equal(err.reason, 'forbidden-address', url);
    }
    assert.equal(hits, 0);
  });

  test('refuses localhost through the system resolver', async () => {
    const err = await rejection(safeFetch(`http://localhost:${port}/`));
    assert.equal(err.reason, 'forbidden-address');
    assert.equal(hits, 0);
  });

  test('refuses a host when any one of its addresses is not public', async () => {
    const mixed: HostResolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ];
    const err = await rejection(safeFetch('https://mixed.example/', { resolveHost: mixed }));
    assert.ok(err instanceof ForbiddenAddressError);
    assert.equal(err.address, '10.0.0.1');
  });

  test('refuses schemes other than http and https, and URLs with credentials', async () => {
    for (const url of ['ftp://example.com/', 'file:///etc/passwd', 'data:text/plain,hi', 'gopher://example.com/']) {
      assert.equal((await rejection(safeFetch(url))).reason, 'forbidden-protocol', url);
    }
    assert.equal((await rejection(safeFetch('https://user:pw@example.com/'))).reason, 'invalid-url');
    assert.equal((await rejection(safeFetch('not a url'))).reason, 'invalid-url');
  });

  test('reports a resolver failure as a dns error', async () => {
    const failing: HostResolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    };
    assert.equal((await rejection(safeFetch('https://nowhere.invalid/', { resolveHost: failing }))).reason, 'dns');
  });

  test('times out a TLS handshake that never completes', async () => {
    // A TCP server that accepts and stays silent: TCP connects, TLS never does.
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const err = await rejection(safeFetch(`https://127.0.0.1:${silentPort}/`, { allowPrivateNetwork: true, connectTimeoutMs: 200 }));
      assert.equal(err.reason, 'connect-timeout');
    } finally {
      silent.close();
    }
  });

  test('does not put the path, query or headers in error messages', async () => {
    const err = await rejection(
      safeFetch(`http://127.0.0.1:${port}/secret-path?token=hunter2`, { headers: { authorization: 'Bearer hunter2' } }),
    );
    assert.ok(!err.message.includes('hunter2'));
    assert.ok(!err.message.includes('secret-path'));
  });
});
