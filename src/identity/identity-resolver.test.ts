import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { generateKeypair, type Keypair } from '../crypto/index.ts';
import { loadConfig } from '../config.ts';
import { createGuardedFetch } from '../net/guarded-fetch.ts';
import { DidResolver } from './did-resolver.ts';
import { HandleResolver, type TxtResolver } from './handle-resolver.ts';
import { IdentityResolver, createIdentityServices } from './identity-resolver.ts';
import { createGenesisOperation } from './plc-operation.ts';
import { startTestPlc, type TestPlc } from './testing-plc.ts';

describe('bidirectional handle verification', () => {
  let plc: TestPlc;
  let key: Keypair;
  const txt: Record<string, string> = {};
  const resolveTxt: TxtResolver = async (name) => {
    const did = txt[name];
    if (did === undefined) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return [[`did=${did}`]];
  };
  let identity: IdentityResolver;

  async function createDid(handle: string): Promise<string> {
    const { did, operation } = await createGenesisOperation(
      { rotationKeys: [key.did()], signingKey: key.did(), handle, pdsEndpoint: 'https://pds.example.com' },
      key,
    );
    await plc.client.submitOperation(did, operation);
    return did;
  }

  before(async () => {
    plc = await startTestPlc();
    key = await generateKeypair();
    identity = new IdentityResolver(
      new DidResolver({ plc: plc.client, cache: { minRefreshIntervalMs: 0 } }),
      new HandleResolver({ resolveTxt, fetch: createGuardedFetch({ disableSsrfProtection: true }), wellKnownUrl: () => `${plc.url}/nothing-here`, devMode: true }),
    );
  });
  after(() => plc.close());

  test('confirms a handle whose DID document claims it back', async () => {
    const did = await createDid('alice.test');
    txt['_atproto.alice.test'] = did;
    const resolved = await identity.resolveHandle('ALICE.test');
    assert.equal(resolved?.did, did);
    assert.equal(resolved?.handle, 'alice.test');
    assert.deepEqual(await identity.resolveDid(did), { did, handle: 'alice.test', signingKey: key.did(), pds: 'https://pds.example.com' });
  });

  test('does not confirm a handle that points at a DID claiming another handle', async () => {
    const did = await createDid('bob.test');
    txt['_atproto.mallory.test'] = did;
    assert.equal(await identity.resolveHandle('mallory.test'), undefined);
  });

  test('keeps an unconfirmed handle apart when the DID claims a handle that does not point back', async () => {
    const did = await createDid('carol.test');
    const resolved = await identity.resolveDid(did);
    assert.equal(resolved.handle, undefined);
    assert.equal(resolved.unverifiedHandle, 'carol.test');
  });

  test('sees a handle change once asked to refresh', async () => {
    const did = await createDid('dave.test');
    txt['_atproto.dave.test'] = did;
    assert.equal((await identity.resolveHandle('dave.test'))?.did, did);
    await plc.client.updateHandle(did, key, 'dave2.test');
    txt['_atproto.dave2.test'] = did;
    assert.equal(await identity.resolveHandle('dave2.test'), undefined, 'the cached document still claims dave.test');
    assert.equal((await identity.resolveHandle('dave2.test', { forceRefresh: true }))?.did, did);
  });

  test('createIdentityServices reaches the configured PLC on loopback with no extra setting', async () => {
    const services = createIdentityServices(loadConfig({ PDS_DID_PLC_URL: plc.url, PDS_DATA_DIRECTORY: '/tmp/squall-identity-unused' }));
    const did = await createDid('erin.test');
    assert.equal((await services.dids.resolveIdentity(did)).handle, 'erin.test');
  });

  test('createIdentityServices keeps did:web off loopback unless SSRF protection is disabled for development', async () => {
    let hits = 0;
    const web = createServer((_req, res) => {
      hits++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: webDid }));
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const webDid = `did:web:localhost%3A${(web.address() as AddressInfo).port}`;
    try {
      const base = { PDS_DID_PLC_URL: plc.url, PDS_DEV_MODE: 'true', PDS_DATA_DIRECTORY: '/tmp/squall-identity-unused' };
      const strict = createIdentityServices(loadConfig(base));
      await assert.rejects(strict.dids.resolve(webDid), /refusing to connect/);
      assert.equal(hits, 0);
      const open = createIdentityServices(loadConfig({ ...base, PDS_DISABLE_SSRF_PROTECTION: 'true' }));
      assert.equal((await open.dids.resolveDocument(webDid)).id, webDid);
      assert.equal(hits, 1);
    } finally {
      await new Promise((resolve) => web.close(resolve));
    }
  });
});
