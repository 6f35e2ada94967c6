// Operator-configured URLs are trusted on any address: a PLC directory on this machine works
// without any setting (PDS_DISABLE_SSRF_PROTECTION stays off, so URLs from users and DID documents are
// still held to public addresses).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_ALLOW_PRIVATE_NETWORK: 'false' });
});
after(async () => {
  await server.close();
  await plc.close();
});

describe('operator-configured services on private addresses', () => {
  it('creates an account through a PLC directory on 127.0.0.1 with the private-network switch off', async () => {
    assert.match(plc.url, /^http:\/\/(127\.0\.0\.1|localhost)/);
    const agent = new AtpAgent({ service: server.url });
    const { data } = await agent.createAccount({ handle: 'lan.test', email: 'lan@example.com', password: 'lan-password-1' });
    const doc = (await (await fetch(`${plc.url}/${data.did}`)).json()) as { alsoKnownAs: string[] };
    assert.deepEqual(doc.alsoKnownAs, ['at://lan.test']);
    assert.equal(server.server.ctx.config.net.disableSsrfProtection, false);
  });
});
