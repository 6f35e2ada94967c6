// Where a header sends a call: services known only by their DID (did:web and did:plc), their
// documents resolved once and cached; and the timeouts that hold on every upstream answer, also
// once it has started.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signUp, startAccountsEnv, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';
import { json, startTestService, type TestService } from './helpers/services.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';

let plc: TestPlc;
/** A custom AppView known by a did:web: its document is served by itself. */
let webService: TestService;
/** A labeler known by a did:plc registered in the test PLC. */
let plcService: TestService;
let env: AccountsEnv;
let alice: SignedUp;

const BODY_TIMEOUT_MS = 800;

before(async () => {
  plc = await startTestPlc();
  webService = await startTestService(plc.url, { serviceId: 'custom_appview', type: 'CustomAppView', didWeb: true });
  plcService = await startTestService(plc.url, { serviceId: 'atproto_labeler', type: 'AtprotoLabeler' });
  env = await startAccountsEnv({
    PDS_DID_PLC_URL: plc.url,
    // did:web:localhost%3A<port> is accepted in development mode only.
    PDS_DEV_MODE: 'true',
    PDS_PROXY_BODY_TIMEOUT: String(BODY_TIMEOUT_MS),
    // The services here are known by DID documents that put them on loopback: the development-only switch lets them be reached.
    PDS_DISABLE_SSRF_PROTECTION: 'true',
  });
  alice = await signUp(env, 'resolution-alice');
});
after(async () => {
  await env.close();
  await webService.close();
  await plcService.close();
  await plc.close();
});

const auth = () => ({ authorization: `Bearer ${alice.agent.session!.accessJwt}` });

describe('services known by their DID', () => {
  it('forwards a custom NSID to the endpoint a did:web document names, with a token for the bare did:web', async () => {
    assert.match(webService.did, /^did:web:localhost%3A\d+$/);
    const res = await fetch(`${env.url}/xrpc/com.example.feed.getThings?limit=3`, { headers: { ...auth(), 'atproto-proxy': webService.ref } });
    assert.equal(res.status, 200);
    const received = webService.calls('com.example.feed.getThings').at(-1)!;
    assert.equal(received.jwtError, undefined);
    assert.deepEqual([received.jwt?.iss, received.jwt?.aud, received.jwt?.lxm], [alice.did, webService.did, 'com.example.feed.getThings']);
    assert.equal(received.search, '?limit=3');
    assert.equal(webService.documentFetches(), 1, 'the document came from the did:web host');
  });

  it("resolves a service's DID once and answers later calls from the cache, for did:web and did:plc alike", async () => {
    const webBefore = webService.documentFetches();
    const plcBefore = plc.documentFetches(plcService.did);
    for (let i = 0; i < 3; i++) {
      for (const service of [webService, plcService]) {
        const res = await fetch(`${env.url}/xrpc/com.example.cache.check?i=${i}`, { headers: { ...auth(), 'atproto-proxy': service.ref } });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
    }
    assert.equal(webService.calls('com.example.cache.check').length, 3);
    assert.equal(plcService.calls('com.example.cache.check').length, 3);
    // The first call of this file resolved the did:web already; the did:plc is resolved here, once.
    assert.equal(webService.documentFetches() - webBefore, 0);
    assert.equal(plc.documentFetches(plcService.did) - plcBefore, 1);
  });

  it('answers 400 naming the service when a did:web document lacks it, sending nothing', async () => {
    const before = webService.received.length;
    const res = await fetch(`${env.url}/xrpc/com.example.feed.getThings`, { headers: { ...auth(), 'atproto-proxy': `${webService.did}#bsky_chat` } });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'InvalidRequest');
    assert.match(body.message, /has no #bsky_chat service/);
    assert.equal(webService.received.length, before);
  });

  it('remembers for a few seconds that a DID does not resolve, so repeated calls naming it cost one lookup', async () => {
    const unknown = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${env.url}/xrpc/com.example.feed.getThings`, { headers: { ...auth(), 'atproto-proxy': `${unknown}#atproto_labeler` } });
      assert.equal(res.status, 400);
      const body = (await res.json()) as { error: string; message: string };
      assert.equal(body.error, 'InvalidRequest');
      assert.match(body.message, /Could not resolve did:plc:a{24}/);
    }
    assert.equal(plc.documentFetches(unknown), 1);
  });
});

describe('timeouts once an answer has started', () => {
  it('cuts off a streamed answer whose body stalls', async () => {
    plcService.on('com.example.stall.stream', (_call, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
      // and nothing more
    });
    const res = await fetch(`${env.url}/xrpc/com.example.stall.stream`, { headers: { ...auth(), 'atproto-proxy': plcService.ref } });
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
  });

  it('answers 502 UpstreamFailure when an error body stalls while it is being read', async () => {
    plcService.on('com.example.stall.error', (_call, res) => {
      res.writeHead(500, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"error":"Internal');
    });
    const res = await fetch(`${env.url}/xrpc/com.example.stall.error`, { headers: { ...auth(), 'atproto-proxy': plcService.ref } });
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { error: string }).error, 'UpstreamFailure');
  });
});
