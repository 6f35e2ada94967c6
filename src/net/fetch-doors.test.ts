import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ForbiddenAddressError } from './errors.ts';
import { createGuardedFetch } from './guarded-fetch.ts';
import { publicOnlyLookup } from './public-lookup.ts';
import { SafeFetchError } from './safe-fetch.ts';
import { createTrustedFetch } from './trusted-fetch.ts';

describe('the two outbound doors against loopback servers', () => {
  let configured: http.Server;
  let other: http.Server;
  let configuredUrl: string;
  let otherUrl: string;
  const hits = { configured: 0, other: 0 };

  before(async () => {
    other = http.createServer((_req, res) => {
      hits.other++;
      res.end('other');
    });
    configured = http.createServer((req, res) => {
      hits.configured++;
      if (req.url === '/away') return void res.writeHead(302, { location: `${otherUrl}/` }).end();
      if (req.url === '/here') return void res.writeHead(302, { location: '/hello' }).end();
      res.end('hello');
    });
    for (const server of [configured, other]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    configuredUrl = `http://127.0.0.1:${(configured.address() as AddressInfo).port}`;
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  after(() => {
    configured.close();
    other.close();
  });

  async function refusal(promise: Promise<unknown>): Promise<SafeFetchError> {
    try {
      await promise;
    } catch (err) {
      assert.ok(err instanceof SafeFetchError, String(err));
      return err;
    }
    assert.fail('expected a refusal');
  }

  test('the trusted fetch reaches a configured URL on loopback with no extra setting', async () => {
    const fetch = createTrustedFetch([`${configuredUrl}/some/base`]);
    assert.equal((await fetch(`${configuredUrl}/hello`)).text(), 'hello');
    assert.equal((await fetch(`${configuredUrl}/here`)).text(), 'hello', 'a redirect within the origin is followed');
  });

  test('the trusted fetch refuses any origin it was not configured with, and a redirect to one', async () => {
    const fetch = createTrustedFetch([configuredUrl]);
    const before = hits.other;
    assert.equal((await refusal(fetch(`${otherUrl}/`))).reason, 'forbidden-origin');
    assert.equal((await refusal(fetch(`${configuredUrl}/away`))).reason, 'forbidden-origin');
    assert.equal(hits.other, before, 'nothing reached the other server');
  });

  test('the guarded fetch refuses loopback, and reaches it only with SSRF protection disabled', async () => {
    const before = hits.configured;
    assert.equal((await refusal(createGuardedFetch()(`${configuredUrl}/hello`))).reason, 'forbidden-address');
    assert.equal(hits.configured, before);
    assert.equal((await createGuardedFetch({ disableSsrfProtection: true })(`${configuredUrl}/hello`)).text(), 'hello');
  });

  test('the guarded fetch refuses a name that resolves to a private address', async () => {
    const fetch = createGuardedFetch({ resolveHost: async () => [{ address: '10.1.2.3', family: 4 }] });
    assert.equal((await refusal(fetch('https://handle.example.com/.well-known/atproto-did'))).reason, 'forbidden-address');
  });
});

describe('publicOnlyLookup (for clients with their own connection pools)', () => {
  test('refuses a name that resolves to loopback', async () => {
    const err = await new Promise<Error | null>((resolve) => publicOnlyLookup('localhost', {}, (e) => resolve(e)));
    assert.ok(err instanceof ForbiddenAddressError, String(err));
    assert.equal(err.addressClass, 'loopback');
  });
});
