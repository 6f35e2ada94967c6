// OAuth `rpc:` scopes on proxied calls: what an app may have Squall forward in the account's name.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { DpopKey, ManualClient } from './helpers/oauth-manual.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { json, startTestService, type TestService } from './helpers/services.ts';

let plc: TestPlc;
let appView: TestService;
let chat: TestService;
let server: TestServer;
let did: string;

before(async () => {
  plc = await startTestPlc();
  appView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView' });
  chat = await startTestService(plc.url, { serviceId: 'bsky_chat', type: 'BskyChatService' });
  server = await startTestServer({
    PDS_DID_PLC_URL: plc.url,
    PDS_BSKY_APP_VIEW_URL: appView.url,
    PDS_BSKY_APP_VIEW_DID: appView.did,
    PDS_BSKY_CHAT_URL: chat.url,
    PDS_BSKY_CHAT_DID: chat.did,
  });
  const agent = new AtpAgent({ service: server.url });
  await agent.createAccount({ handle: 'proxy-oauth.test', email: 'po@example.com', password: 'alice-password-1' });
  did = agent.session!.did;
  appView.on('app.bsky.feed.getTimeline', (_call, res) => json(res, 200, { feed: [] }));
  appView.on('app.bsky.actor.getProfile', (_call, res) => json(res, 200, { did, handle: 'proxy-oauth.test' }));
  chat.on('chat.bsky.convo.listConvos', (_call, res) => json(res, 200, { convos: [] }));
});
after(async () => {
  await server.close();
  await appView.close();
  await chat.close();
  await plc.close();
});

async function grant(scope: string) {
  const client = new ManualClient(server.server.ctx.oauth.issuer, await DpopKey.generate(), scope);
  return { client, access: (await client.signIn('proxy-oauth.test', 'alice-password-1')).access };
}

describe('OAuth grants on proxied calls', () => {
  it('forwards a call the rpc: scope names, and refuses one it does not, naming the scope', async () => {
    const { client, access } = await grant(`atproto rpc:app.bsky.feed.getTimeline?aud=${encodeURIComponent(`${appView.did}#bsky_appview`)}`);
    const timeline = await client.xrpc('GET', 'app.bsky.feed.getTimeline', access);
    assert.equal(timeline.status, 200, JSON.stringify(timeline.body));
    const call = appView.calls('app.bsky.feed.getTimeline').at(-1)!;
    assert.deepEqual([call.jwt?.iss, call.jwt?.lxm], [did, 'app.bsky.feed.getTimeline']);
    const profile = await client.xrpc('GET', 'app.bsky.actor.getProfile', access, undefined, { query: 'actor=proxy-oauth.test' });
    assert.equal(profile.status, 403);
    assert.equal(profile.body.error, 'ScopeMissingError');
    assert.equal(profile.body.message, `Missing required scope "rpc:app.bsky.actor.getProfile?aud=${appView.did}%23bsky_appview"`);
    assert.equal(appView.calls('app.bsky.actor.getProfile').length, 0, 'nothing was forwarded');
  });

  it('lets transition:generic reach the AppView but not chat, which needs transition:chat.bsky', async () => {
    const generic = await grant('atproto transition:generic');
    assert.equal((await generic.client.xrpc('GET', 'app.bsky.feed.getTimeline', generic.access)).status, 200);
    const refused = await generic.client.xrpc('GET', 'chat.bsky.convo.listConvos', generic.access);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.message, `Missing required scope "rpc:chat.bsky.convo.listConvos?aud=${chat.did}%23bsky_chat"`);
    const withChat = await grant('atproto transition:generic transition:chat.bsky');
    assert.equal((await withChat.client.xrpc('GET', 'chat.bsky.convo.listConvos', withChat.access)).status, 200);
  });
});
