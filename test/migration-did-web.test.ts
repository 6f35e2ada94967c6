// A did:web account moves like a did:plc one, except that its DID document is the user's to edit:
// there is no PLC operation, the user points the document at the new PDS and its key.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { createServiceJwt } from '../src/auth/service-jwt.ts';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { generateKeypair } from '../src/crypto/index.ts';
import { xrpcError } from './helpers/accounts-env.ts';
import { startMigrationEnv, type MigrationEnv } from './helpers/migration-env.ts';
import { testIdResolver } from './helpers/plc.ts';

let env: MigrationEnv;
let web: Server;
let did: string;
/** What the user's web server publishes as the DID document: edited by the test, as by the user. */
let published: { handle: string; signingKey: string; pds: string };

before(async () => {
  // did:web on localhost with a port resolves over http in development mode only, and the user's
  // web server is on loopback, which only the development-only switch lets a DID document reach.
  env = await startMigrationEnv(2, { PDS_DEV_MODE: 'true', PDS_DISABLE_SSRF_PROTECTION: 'true' });
  web = createServer((req, res) => {
    if (req.url !== '/.well-known/did.json') return void res.writeHead(404).end();
    const document = {
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
      id: did,
      alsoKnownAs: [`at://${published.handle}`],
      verificationMethod: [{ id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: published.signingKey.slice('did:key:'.length) }],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: published.pds }],
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  did = `did:web:localhost%3A${(web.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => web.close(resolve));
  await env.close();
});

const PASSWORD = 'web-password-1';
const EMAIL = 'webby@example.com';
const publicUrl = (i: number) => env.servers[i].server.ctx.config.service.publicUrl;

/** The user points their document at a PDS and its key for the account (from getRecommendedDidCredentials). */
async function pointDocumentAt(agent: AtpAgent, pds: number, handle: string): Promise<void> {
  const recommended = (await agent.com.atproto.identity.getRecommendedDidCredentials()).data;
  const signingKey = (recommended.verificationMethods as { atproto: string }).atproto;
  assert.deepEqual((recommended.services as { atproto_pds: { endpoint: string } }).atproto_pds.endpoint, publicUrl(pds));
  published = { handle, signingKey, pds: publicUrl(pds) };
  for (const server of env.servers) server.server.ctx.identity.dids.invalidate(did);
}

describe('a did:web account', () => {
  let first: AtpAgent;

  it('arrives on a PDS with a service token signed by the key its document names, and goes live once the document points there', async () => {
    const userKey = await generateKeypair('ES256K');
    published = { handle: 'webby.test', signingKey: userKey.did(), pds: 'https://nowhere.example.com' };
    const aud = env.servers[0].server.ctx.config.service.did;
    const token = await createServiceJwt({ iss: did, aud, lxm: 'com.atproto.server.createAccount', keypair: userKey });
    first = new AtpAgent({ service: env.servers[0].url });
    await first.com.atproto.server.createAccount({ did, handle: 'webby.test', email: EMAIL, password: PASSWORD }, { headers: { authorization: `Bearer ${token}` }, encoding: 'application/json' });
    await first.login({ identifier: 'webby.test', password: PASSWORD });

    const early = await xrpcError(first.com.atproto.server.activateAccount());
    assert.equal(early.status, 400);
    assert.equal((await first.com.atproto.server.checkAccountStatus()).data.validDid, false);
    await pointDocumentAt(first, 0, 'webby.test');
    assert.equal((await first.com.atproto.server.checkAccountStatus()).data.validDid, true);
    await first.com.atproto.server.activateAccount();
    for (let i = 0; i < 30; i++) await first.post({ text: `web post ${i}`, createdAt: new Date().toISOString() });
    const image = (await first.uploadBlob(pngOfSize(1500, 3), { encoding: 'image/png' })).data.blob;
    await first.post({ text: 'with a picture', createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ image, alt: '' }] } });
  });

  it('moves to another PDS with the official client; the user edits the document instead of a PLC operation', async () => {
    const second = new AtpAgent({ service: env.servers[1].url });
    const aud = (await second.com.atproto.server.describeServer()).data.did;
    const { token } = (await first.com.atproto.server.getServiceAuth({ aud, lxm: 'com.atproto.server.createAccount' })).data;
    await second.com.atproto.server.createAccount({ did, handle: 'webby2.test', email: EMAIL, password: PASSWORD }, { headers: { authorization: `Bearer ${token}` }, encoding: 'application/json' });
    await second.login({ identifier: 'webby2.test', password: PASSWORD });
    await second.com.atproto.repo.importRepo((await first.com.atproto.sync.getRepo({ did })).data, { encoding: 'application/vnd.ipld.car' });
    for (const { cid } of (await second.com.atproto.repo.listMissingBlobs({})).data.blobs) {
      const blob = await first.com.atproto.sync.getBlob({ did, cid });
      await second.com.atproto.repo.uploadBlob(blob.data, { encoding: blob.headers['content-type'] });
    }
    await second.app.bsky.actor.putPreferences({ preferences: (await first.app.bsky.actor.getPreferences()).data.preferences });
    // the did:web owner was asked for no PLC signature: there is none to ask for
    await pointDocumentAt(second, 1, 'webby2.test');
    await second.com.atproto.server.activateAccount();
    await first.com.atproto.server.deactivateAccount({});

    const status = (await second.com.atproto.server.checkAccountStatus()).data;
    assert.deepEqual([status.activated, status.validDid, status.indexedRecords, status.expectedBlobs, status.importedBlobs], [true, true, 31, 1, 1]);
    const car = (await new AtpAgent({ service: env.servers[1].url }).com.atproto.sync.getRepo({ did })).data;
    const { root, blocks } = await readCarWithRoot(car);
    const key = await testIdResolver(env.plc.url).did.resolveAtprotoKey(did, true);
    assert.equal((await verifyRepo(blocks, root, did, key)).creates.length, 31);
    await second.post({ text: 'settled in', createdAt: new Date().toISOString() });
  });
});
