import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createGuardedFetch, type GuardedFetch } from '../net/guarded-fetch.ts';
import type { SafeFetch, SafeResponse } from '../net/safe-fetch.ts';
import { createTrustedFetch } from '../net/trusted-fetch.ts';
import { DidResolver } from './did-resolver.ts';
import { DidNotFoundError, DidResolutionError, InvalidDidDocumentError, InvalidDidError, UnsupportedDidMethodError } from './errors.ts';
import { PlcClient } from './plc-client.ts';

function vectorLines(name: string): string[] {
  const text = readFileSync(new URL(`../../../shared/interop/syntax/${name}`, import.meta.url), 'utf8');
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

// did:plc lines would reach this (closed) directory only if they passed the syntax checks.
const unreachablePlc = new PlcClient({ url: 'http://127.0.0.1:1', fetch: createTrustedFetch(['http://127.0.0.1:1'], { timeoutMs: 1000 }) });
/** A stand-in for the guarded fetch that answers without a network. */
const fake = (fn: SafeFetch): GuardedFetch => Object.assign(fn, { trust: 'guarded' as const });

function fakeResponse(url: string, status: number, body: string): SafeResponse {
  const buf = Buffer.from(body);
  return { status, headers: {}, url, redirects: 0, body: buf, text: () => body, json: () => JSON.parse(body) };
}

describe('DID syntax vectors through the resolver', () => {
  const resolver = new DidResolver({ plc: unreachablePlc, fetch: fake(async (url) => fakeResponse(String(url), 404, '')) });

  for (const did of vectorLines('did_syntax_invalid.txt')) {
    test(`refuses ${JSON.stringify(did.slice(0, 60))} as an invalid DID`, async () => {
      await assert.rejects(resolver.resolve(did), InvalidDidError);
    });
  }

  for (const did of vectorLines('did_syntax_valid.txt').filter((d) => !d.startsWith('did:plc:') && !d.startsWith('did:web:'))) {
    test(`reports ${JSON.stringify(did.slice(0, 60))} as an unsupported method, not bad syntax`, async () => {
      await assert.rejects(resolver.resolve(did), UnsupportedDidMethodError);
    });
  }
});

describe('did:web', () => {
  let server: http.Server;
  let port: number;
  let served: unknown = {};
  let status = 200;
  let hits = 0;
  const loopbackFetch = createGuardedFetch({ disableSsrfProtection: true });

  before(async () => {
    server = http.createServer((req, res) => {
      hits++;
      if (req.url !== '/.well-known/did.json') {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const localDid = () => `did:web:localhost%3A${port}`;

  test('resolves did:web:localhost with a port in development mode, over http', async () => {
    const did = localDid();
    served = {
      id: did,
      alsoKnownAs: ['at://web.test'],
      verificationMethod: [{ id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF' }],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: `http://localhost:${port}` }],
    };
    status = 200;
    const resolver = new DidResolver({ plc: unreachablePlc, fetch: loopbackFetch, devMode: true });
    assert.deepEqual(await resolver.resolveIdentity(did), {
      did,
      handle: 'web.test',
      signingKey: 'did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF',
      pds: `http://localhost:${port}`,
    });
  });

  test('caches the document until asked to refresh', async () => {
    const did = localDid();
    served = { id: did };
    status = 200;
    const resolver = new DidResolver({ plc: unreachablePlc, fetch: loopbackFetch, devMode: true, cache: { minRefreshIntervalMs: 0 } });
    const before = hits;
    await resolver.resolve(did);
    await resolver.resolve(did);
    assert.equal(hits, before + 1);
    await resolver.resolve(did, { forceRefresh: true });
    assert.equal(hits, before + 2);
    resolver.invalidate(did);
    await resolver.resolve(did);
    assert.equal(hits, before + 3);
  });

  test('refuses a document that names another DID', async () => {
    served = { id: 'did:web:evil.example.com' };
    status = 200;
    const resolver = new DidResolver({ plc: unreachablePlc, fetch: loopbackFetch, devMode: true });
    await assert.rejects(resolver.resolve(localDid()), InvalidDidDocumentError);
  });

  test('maps 404 to not found and other failures to resolution errors', async () => {
    const resolver = new DidResolver({ plc: unreachablePlc, fetch: loopbackFetch, devMode: true, cache: { minRefreshIntervalMs: 0 } });
    status = 404;
    await assert.rejects(resolver.resolve(localDid()), DidNotFoundError);
    status = 500;
    await assert.rejects(resolver.resolve(localDid(), { forceRefresh: true }), DidResolutionError);
  });

  test('refuses localhost outside development mode, paths, upper case and reserved TLDs', async () => {
    const resolver = new DidResolver({ plc: unreachablePlc, fetch: loopbackFetch });
    for (const did of [localDid(), 'did:web:example.com:user:alice', 'did:web:Example.com', 'did:web:printer.local', 'did:web:box.internal', 'did:web:a.test', 'did:web:127.0.0.1']) {
      await assert.rejects(resolver.resolve(did), InvalidDidError, did);
    }
  });

  test('fetches https://<host>/.well-known/did.json for a hostname DID', async () => {
    const seen: string[] = [];
    const fetch = fake(async (url) => {
      seen.push(String(url));
      return fakeResponse(String(url), 200, JSON.stringify({ id: 'did:web:pds.example.com' }));
    });
    const resolver = new DidResolver({ plc: unreachablePlc, fetch });
    assert.equal((await resolver.resolveDocument('did:web:pds.example.com')).id, 'did:web:pds.example.com');
    assert.deepEqual(seen, ['https://pds.example.com/.well-known/did.json']);
  });

  test('reports a document that is not JSON as invalid', async () => {
    const resolver = new DidResolver({ plc: unreachablePlc, fetch: fake(async (url) => fakeResponse(String(url), 200, '<html>')) });
    await assert.rejects(resolver.resolve('did:web:pds.example.com'), InvalidDidDocumentError);
  });

  test('reports an unreachable directory as a resolution error', async () => {
    const resolver = new DidResolver({ plc: unreachablePlc });
    await assert.rejects(resolver.resolve('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'), DidResolutionError);
  });
});
