import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeypair, type Keypair } from '../crypto/index.ts';
import { loadConfig } from '../config.ts';
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
      new HandleResolver({ resolveTxt, fetch: plc.fetch, wellKnownUrl: () => `${plc.url}/nothing-here`, devMode: true }),
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

  test('createIdentityServices wires the resolvers from the config', async () => {
    const config = loadConfig({ PDS_DID_PLC_URL: plc.url, PDS_ALLOW_PRIVATE_NETWORK: 'true', PDS_DEV_MODE: 'true', PDS_DATA_DIRECTORY: '/tmp/squall-identity-unused' });
    const services = createIdentityServices(config);
    const did = await createDid('erin.test');
    assert.equal((await services.dids.resolveIdentity(did)).handle, 'erin.test');
    const strict = createIdentityServices(loadConfig({ PDS_DID_PLC_URL: plc.url, PDS_DATA_DIRECTORY: '/tmp/squall-identity-unused' }));
    await assert.rejects(strict.dids.resolve(did), /refusing to connect/);
  });
});
