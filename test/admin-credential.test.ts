// The admin credential over real HTTP: failed attempts are throttled per client (issue 12, finding 11).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;
before(async () => {
  server = await startTestServer({ PDS_RATE_LIMITS_ENABLED: 'true', PDS_TRUSTED_PROXIES: '127.0.0.1' });
});
after(() => server.close());

async function status(authorization: string, client: string): Promise<Response> {
  const res = await fetch(`${server.url}/xrpc/_admin/status`, { headers: { authorization, 'x-forwarded-for': client } });
  await res.arrayBuffer();
  return res;
}

describe('failed admin credentials', () => {
  it('are refused with 401 ten times, then every attempt from that client gets 429 with Retry-After, even the right password', async () => {
    const guesser = '203.0.113.7';
    for (let i = 0; i < 10; i++) assert.equal((await status(basicAuth(`guess-number-${i}`), guesser)).status, 401);
    for (const authorization of [basicAuth('guess-number-10'), `Bearer guess-number-11`, basicAuth(server.adminPassword)]) {
      const res = await status(authorization, guesser);
      assert.equal(res.status, 429);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(retryAfter > 0 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
    }
  });

  it('count per client: another address, and another /64, still get in', async () => {
    const v6 = '2001:db8:1:2::';
    for (let i = 0; i < 10; i++) assert.equal((await status(basicAuth(`v6-guess-${i}`), `${v6}${i + 1}`)).status, 401);
    assert.equal((await status(basicAuth(server.adminPassword), `${v6}99`)).status, 429, 'the same /64 is one client');
    assert.equal((await status(basicAuth(server.adminPassword), '2001:db8:1:3::1')).status, 200);
    assert.equal((await status(basicAuth(server.adminPassword), '198.51.100.1')).status, 200);
  });

  it('do not count a request without credentials, nor a right one', async () => {
    const client = '198.51.100.2';
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${server.url}/xrpc/_admin/status`, { headers: { 'x-forwarded-for': client } });
      assert.equal(res.status, 401);
      await res.arrayBuffer();
      assert.equal((await status(basicAuth(server.adminPassword), client)).status, 200);
    }
  });
});
