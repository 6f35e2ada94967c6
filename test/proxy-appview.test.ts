import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { signUp, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';
import { json, startTestService, type TestService } from './helpers/services.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';

let plc: TestPlc;
let appView: TestService;
let otherAppView: TestService;
let env: AccountsEnv;
let alice: SignedUp;

const GET_PROFILE = 'app.bsky.actor.getProfile';

before(async () => {
  plc = await startTestPlc();
  appView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView' });
  otherAppView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView' });
  // Services known only by their DID documents live on loopback here: the development-only switch lets them be reached.
  env = await startAccountsEnv({ PDS_DID_PLC_URL: plc.url, PDS_BSKY_APP_VIEW_URL: appView.url, PDS_BSKY_APP_VIEW_DID: appView.did, PDS_DISABLE_SSRF_PROTECTION: 'true' });
  alice = await signUp(env, 'proxy-alice');
  appView.on(GET_PROFILE, (call, res) => {
    const actor = new URLSearchParams(call.search).get('actor');
    json(res, 200, { did: alice.did, handle: alice.handle, displayName: `profile of ${actor}` });
  });
  appView.on('app.bsky.actor.getProfiles', (_call, res) => json(res, 200, { profiles: [{ did: alice.did, handle: alice.handle }] }));
});
after(async () => {
  await env.close();
  await appView.close();
  await otherAppView.close();
  await plc.close();
});

const bearer = (agent: AtpAgent) => `Bearer ${agent.session!.accessJwt}`;

async function raw(path: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${env.url}/xrpc/${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

describe('forwarding to the configured AppView', () => {
  it('answers agent.getProfile through Squall with a token the official verifier accepts', async () => {
    const before = appView.calls(GET_PROFILE).length;
    const { data } = await alice.agent.getProfile({ actor: 'bob.test' });
    assert.equal(data.did, alice.did);
    assert.equal(data.displayName, 'profile of bob.test');
    const call = appView.calls(GET_PROFILE)[before];
    assert.equal(call.jwtError, undefined);
    assert.equal(call.jwt?.iss, alice.did);
    assert.equal(call.jwt?.aud, appView.did, 'the audience is the bare service DID');
    assert.equal(call.jwt?.lxm, GET_PROFILE);
    const now = Math.floor(Date.now() / 1000);
    assert.ok((call.jwt!.exp as number) > now && (call.jwt!.exp as number) <= now + 60, 'a short-lived token');
  });

  it('passes the method and query string through unchanged', async () => {
    const res = await raw('app.bsky.feed.getAuthorFeed?actor=alice.test&limit=3&filter=posts_no_replies&x=%20y', { headers: { authorization: bearer(alice.agent) } });
    assert.equal(res.status, 200);
    assert.equal(res.body.nsid, 'app.bsky.feed.getAuthorFeed');
    assert.equal(res.body.method, 'GET');
    assert.equal(res.body.search, '?actor=alice.test&limit=3&filter=posts_no_replies&x=%20y');
  });

  it('forwards a POST body with its content type', async () => {
    const body = JSON.stringify({ seenAt: '2026-01-01T00:00:00.000Z' });
    const res = await raw('app.bsky.notification.updateSeen', {
      method: 'POST',
      headers: { authorization: bearer(alice.agent), 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.method, 'POST');
    assert.equal(res.body.body, body);
    assert.equal(appView.calls('app.bsky.notification.updateSeen').at(-1)!.headers['content-type'], 'application/json');
  });

  it('reuses a token for the same account and method while it is fresh, and mints one per method', async () => {
    await alice.agent.getProfile({ actor: 'a.test' });
    await alice.agent.getProfile({ actor: 'b.test' });
    const [first, second] = appView.calls(GET_PROFILE).slice(-2);
    assert.equal(first.token, second.token);
    await alice.agent.app.bsky.actor.getProfiles({ actors: ['a.test'] });
    const other = appView.calls('app.bsky.actor.getProfiles').at(-1)!;
    assert.notEqual(other.token, first.token);
    assert.equal(other.jwt?.lxm, 'app.bsky.actor.getProfiles');
  });

  it('refuses a call without credentials with 401 and sends nothing upstream', async () => {
    const before = appView.received.length;
    const res = await raw(`${GET_PROFILE}?actor=bob.test`);
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'AuthenticationRequired');
    const bad = await raw(`${GET_PROFILE}?actor=bob.test`, { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(bad.status, 401);
    assert.equal(appView.received.length, before);
  });
});

describe('which methods stay local', () => {
  it('keeps getPreferences and putPreferences local when the header names the configured AppView', async () => {
    const before = appView.received.length;
    const proxied = alice.agent.withProxy('bsky_appview', appView.did);
    await proxied.app.bsky.actor.putPreferences({ preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }] });
    const { data } = await proxied.app.bsky.actor.getPreferences();
    assert.deepEqual(data.preferences, [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }]);
    assert.equal(appView.received.length, before);
  });

  it('forwards getPreferences to another AppView the header names', async () => {
    otherAppView.on('app.bsky.actor.getPreferences', (_call, res) => json(res, 200, { preferences: [{ $type: 'app.bsky.actor.defs#savedFeedsPref', pinned: [], saved: [] }] }));
    const { data } = await alice.agent.withProxy('bsky_appview', otherAppView.did).app.bsky.actor.getPreferences();
    assert.equal((data.preferences[0] as { $type: string }).$type, 'app.bsky.actor.defs#savedFeedsPref');
    const call = otherAppView.calls('app.bsky.actor.getPreferences').at(-1)!;
    assert.equal(call.jwt?.aud, otherAppView.did);
  });

  it('answers a com.atproto method Squall implements itself even when the header names a service', async () => {
    const before = otherAppView.received.length;
    const proxied = alice.agent.withProxy('bsky_appview', otherAppView.did);
    const created = await proxied.com.atproto.repo.createRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'stays here', createdAt: new Date().toISOString() },
    });
    assert.match(created.data.uri, /^at:\/\//);
    const session = await proxied.com.atproto.server.getSession();
    assert.equal(session.data.did, alice.did);
    assert.equal(otherAppView.received.length, before);
  });

  it('refuses to send account, identity, admin or repo methods it does not implement elsewhere', async () => {
    const before = otherAppView.received.length;
    for (const nsid of ['com.atproto.server.someFutureAccountMethod', 'com.atproto.identity.refreshIdentity', 'com.atproto.admin.searchAccounts', 'com.atproto.repo.rewriteHistory']) {
      const res = await raw(nsid, { method: 'POST', headers: { authorization: bearer(alice.agent), 'atproto-proxy': otherAppView.ref } });
      assert.equal(res.status, 400, nsid);
      assert.equal(res.body.error, 'InvalidRequest', nsid);
      assert.match(String(res.body.message), /never forwarded/, nsid);
    }
    assert.equal(otherAppView.received.length, before);
  });
});

describe('routing any method name', () => {
  it('forwards an NSID Squall has no Lexicon for when a header names the service', async () => {
    const res = await raw('com.example.custom.getThings?limit=2', { headers: { authorization: bearer(alice.agent), 'atproto-proxy': otherAppView.ref } });
    assert.equal(res.status, 200);
    assert.equal(res.body.nsid, 'com.example.custom.getThings');
    assert.equal(otherAppView.calls('com.example.custom.getThings').at(-1)!.jwt?.lxm, 'com.example.custom.getThings');
  });

  it('sends an unknown app.bsky method to the AppView by default', async () => {
    const res = await raw('app.bsky.unspecced.somethingNew', { headers: { authorization: bearer(alice.agent) } });
    assert.equal(res.status, 200);
    assert.equal(res.body.nsid, 'app.bsky.unspecced.somethingNew');
  });

  it('answers 404 for an unknown method outside the default routes without a header', async () => {
    const res = await raw('com.example.custom.getThings', { headers: { authorization: bearer(alice.agent) } });
    assert.equal(res.status, 404);
    assert.equal(res.body.error, 'MethodNotImplemented');
  });

  it('answers a chat call without a header and without a configured chat service with a clear 400', async () => {
    const err = await xrpcError(alice.agent.chat.bsky.convo.listConvos());
    assert.equal(err.status, 400);
    assert.match(err.message, /No service is configured for chat\.bsky\.convo\.listConvos/);
  });
});
