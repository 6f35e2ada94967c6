import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createGuardedFetch, type GuardedFetch } from '../net/guarded-fetch.ts';
import { InvalidHandleError } from './errors.ts';
import { HandleResolver, didFromTxtRecords, didFromWellKnown, type TxtResolver } from './handle-resolver.ts';

const DID_A = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const DID_B = 'did:web:example.com';

function vectorLines(name: string): string[] {
  const text = readFileSync(new URL(`../../../shared/interop/syntax/${name}`, import.meta.url), 'utf8');
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

/** A DNS zone as a map from `_atproto.<handle>` to its TXT records; unknown names are NXDOMAIN. */
function zone(records: Record<string, string[][]>): TxtResolver & { queries: string[] } {
  const queries: string[] = [];
  const resolve = async (name: string) => {
    queries.push(name);
    const found = records[name];
    if (found === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return found;
  };
  return Object.assign(resolve, { queries });
}

const nowhere: GuardedFetch = Object.assign(
  async (): Promise<never> => {
    throw new Error('no network in this test');
  },
  { trust: 'guarded' as const },
);

describe('parsing resolution answers', () => {
  test('takes exactly one did= TXT record, joining its chunks and ignoring other records', () => {
    assert.equal(didFromTxtRecords([[`did=${DID_A}`]]), DID_A);
    assert.equal(didFromTxtRecords([['v=spf1 -all'], ['did=did:plc:ewvi7nx', 'zyoun6zhxrhs64oiz'], ['hello']]), DID_A);
    assert.equal(didFromTxtRecords([[`did=${DID_A}`], [`did=${DID_B}`]]), undefined);
    assert.equal(didFromTxtRecords([[`did=${DID_A}`], ['did=not a did']]), undefined);
    assert.equal(didFromTxtRecords([['did=not-a-did']]), undefined);
    assert.equal(didFromTxtRecords([[`DID=${DID_A}`]]), undefined);
    assert.equal(didFromTxtRecords([]), undefined);
  });

  test('takes the first trimmed line of a well-known body, which must be a DID', () => {
    assert.equal(didFromWellKnown(`${DID_A}`), DID_A);
    assert.equal(didFromWellKnown(`  ${DID_A}\n`), DID_A);
    assert.equal(didFromWellKnown(`${DID_A}\r\nsomething else`), DID_A);
    assert.equal(didFromWellKnown('<html>did:plc:x</html>'), undefined);
    assert.equal(didFromWellKnown(''), undefined);
  });
});

describe('handle syntax vectors through the resolver', () => {
  const resolver = new HandleResolver({ resolveTxt: zone({}), fetch: nowhere });

  for (const handle of vectorLines('handle_syntax_invalid.txt')) {
    test(`refuses ${JSON.stringify(handle.slice(0, 60))} as an invalid handle`, async () => {
      await assert.rejects(resolver.resolve(handle), InvalidHandleError);
    });
  }

  test('accepts every valid handle of the vectors as syntax (they then fail to resolve here)', async () => {
    for (const handle of vectorLines('handle_syntax_valid.txt')) {
      assert.equal(await resolver.resolve(handle), undefined, handle);
    }
  });
});

describe('HandleResolver', () => {
  let server: http.Server;
  let port: number;
  const bodies: Record<string, { status: number; body: string }> = {};
  const hits: string[] = [];
  // Handles map to 127.0.0.1; the well-known is served over http on the test port.
  const fetch = createGuardedFetch({ disableSsrfProtection: true, resolveHost: async () => [{ address: '127.0.0.1', family: 4 }] });
  const wellKnownUrl = (handle: string) => `http://${handle}:${port}/.well-known/atproto-did`;

  before(async () => {
    server = http.createServer((req, res) => {
      const host = (req.headers.host ?? '').split(':')[0];
      hits.push(host);
      const answer = req.url === '/.well-known/atproto-did' ? bodies[host] : undefined;
      if (answer === undefined) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      res.statusCode = answer.status;
      res.setHeader('content-type', 'text/plain');
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('resolves through DNS TXT', async () => {
    const dns = zone({ '_atproto.alice.example.com': [[`did=${DID_A}`]] });
    const resolver = new HandleResolver({ resolveTxt: dns, fetch, wellKnownUrl });
    assert.equal(await resolver.resolve('Alice.Example.com'), DID_A);
    assert.deepEqual(dns.queries, ['_atproto.alice.example.com']);
  });

  test('resolves through the HTTPS well-known when DNS has nothing', async () => {
    bodies['bob.example.com'] = { status: 200, body: `${DID_B}\n` };
    const resolver = new HandleResolver({ resolveTxt: zone({}), fetch, wellKnownUrl });
    assert.equal(await resolver.resolve('bob.example.com'), DID_B);
    assert.equal(await resolver.resolveHttp('bob.example.com'), DID_B);
    assert.equal(await resolver.resolveDns('bob.example.com'), undefined);
  });

  test('prefers DNS when the two methods disagree', async () => {
    bodies['carol.example.com'] = { status: 200, body: DID_B };
    const resolver = new HandleResolver({ resolveTxt: zone({ '_atproto.carol.example.com': [[`did=${DID_A}`]] }), fetch, wellKnownUrl });
    assert.equal(await resolver.resolve('carol.example.com'), DID_A);
  });

  test('does not resolve on an error status, a body that is not a DID, or an oversized body', async () => {
    bodies['dave.example.com'] = { status: 500, body: DID_A };
    bodies['erin.example.com'] = { status: 200, body: 'hello' };
    bodies['frank.example.com'] = { status: 200, body: DID_A + ' '.repeat(10_000) };
    const resolver = new HandleResolver({ resolveTxt: zone({}), fetch, wellKnownUrl });
    for (const handle of ['dave.example.com', 'erin.example.com', 'frank.example.com', 'nobody.example.com']) {
      assert.equal(await resolver.resolve(handle), undefined, handle);
    }
  });

  test('falls back to HTTP when DNS times out', async () => {
    bodies['slow.example.com'] = { status: 200, body: DID_A };
    const hanging: TxtResolver = () => new Promise(() => {});
    const resolver = new HandleResolver({ resolveTxt: hanging, fetch, wellKnownUrl, dnsTimeoutMs: 100 });
    const started = Date.now();
    assert.equal(await resolver.resolve('slow.example.com'), DID_A);
    assert.ok(Date.now() - started < 1500);
  });

  test('refuses reserved TLDs without any lookup, and .test outside development mode', async () => {
    const dns = zone({ '_atproto.a.test': [[`did=${DID_A}`]] });
    const before = hits.length;
    const resolver = new HandleResolver({ resolveTxt: dns, fetch, wellKnownUrl });
    for (const handle of ['laptop.local', 'blah.arpa', 'x.onion', 'a.test', 'handle.invalid', 'my.internal']) {
      assert.equal(await resolver.resolve(handle), undefined, handle);
    }
    assert.deepEqual(dns.queries, []);
    assert.equal(hits.length, before);
    const dev = new HandleResolver({ resolveTxt: dns, fetch, wellKnownUrl, devMode: true });
    assert.equal(await dev.resolve('a.test'), DID_A);
  });

  test('caches successes and re-resolves on demand', async () => {
    const records: Record<string, string[][]> = { '_atproto.gina.example.com': [[`did=${DID_A}`]] };
    const dns = zone(records);
    const resolver = new HandleResolver({ resolveTxt: dns, fetch: nowhere });
    assert.equal(await resolver.resolve('gina.example.com'), DID_A);
    records['_atproto.gina.example.com'] = [[`did=${DID_B}`]];
    assert.equal(await resolver.resolve('gina.example.com'), DID_A);
    assert.equal(await resolver.resolve('gina.example.com', { forceRefresh: true }), DID_B);
    assert.equal(dns.queries.length, 2);
  });

  test('the real HTTP path goes through the outbound guard', async () => {
    // Without the private-network allowance, the handle host (loopback here) is refused.
    bodies['guarded.example.com'] = { status: 200, body: DID_A };
    const strict = createGuardedFetch({ resolveHost: async () => [{ address: '127.0.0.1', family: 4 }] });
    const resolver = new HandleResolver({ resolveTxt: zone({}), fetch: strict, wellKnownUrl });
    const before = hits.length;
    assert.equal(await resolver.resolve('guarded.example.com'), undefined);
    assert.equal(hits.length, before);
  });
});
