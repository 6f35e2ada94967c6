import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { UpstreamRequestError, Upstreams } from './upstream.ts';

let server: Server;
let port: number;
const peers: number[] = [];

before(async () => {
  server = createServer((req, res) => {
    peers.push(req.socket.remotePort!);
    if (req.url === '/silent') return;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = { headersTimeoutMs: 2_000, bodyTimeoutMs: 2_000, disableSsrfProtection: false };

async function text(response: IncomingMessage): Promise<string> {
  let out = '';
  for await (const chunk of response) out += String(chunk);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<UpstreamRequestError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof UpstreamRequestError, String(err));
    return err;
  }
  assert.fail('expected the request to fail');
}

describe('Upstreams', () => {
  it('reaches a configured service on loopback and keeps the connection for the next request', async () => {
    const upstreams = new Upstreams(options);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await upstreams.request({ url: new URL(`http://127.0.0.1:${port}/ok`), method: 'GET', headers: {}, guarded: false });
        assert.equal(await text(res), 'ok');
      }
      assert.equal(peers.at(-1), peers.at(-2), 'the second request reused the first one\'s socket');
    } finally {
      upstreams.close();
    }
  });

  it('refuses an endpoint from a DID document that is, or resolves to, a non-public address, before connecting', async () => {
    const upstreams = new Upstreams(options);
    const before = peers.length;
    try {
      for (const host of ['127.0.0.1', 'localhost', '[::1]', '10.1.2.3', '169.254.169.254']) {
        const err = await failure(upstreams.request({ url: new URL(`http://${host}:${port}/ok`), method: 'GET', headers: {}, guarded: true }));
        assert.equal(err.reason, 'forbidden-address', host);
        assert.doesNotMatch(err.message, /127\.0\.0\.1|10\.1\.2\.3|169\.254/);
      }
      assert.equal(peers.length, before);
    } finally {
      upstreams.close();
    }
  });

  it('gives up on an upstream that does not answer in time', async () => {
    const upstreams = new Upstreams({ ...options, headersTimeoutMs: 200 });
    try {
      const err = await failure(upstreams.request({ url: new URL(`http://127.0.0.1:${port}/silent`), method: 'GET', headers: {}, guarded: false }));
      assert.equal(err.reason, 'timeout');
    } finally {
      upstreams.close();
    }
  });

  it('reports an upstream nobody listens on as unreachable', async () => {
    const upstreams = new Upstreams(options);
    try {
      const err = await failure(upstreams.request({ url: new URL('http://127.0.0.1:1/'), method: 'GET', headers: {}, guarded: false }));
      assert.equal(err.reason, 'unreachable');
    } finally {
      upstreams.close();
    }
  });
});
