// The Bluesky app's view of Squall: the official client (@atproto/api) signed in to Squall, its
// AppView, chat and report calls answered by test services through Squall's proxy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { logIn, signUp, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';
import { json, startTestService, type TestService } from './helpers/services.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';

let plc: TestPlc;
let appView: TestService;
let chat: TestService;
let reports: TestService;
let env: AccountsEnv;
let alice: SignedUp;

before(async () => {
  plc = await startTestPlc();
  appView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView' });
  chat = await startTestService(plc.url, { serviceId: 'bsky_chat', type: 'BskyChatService' });
  reports = await startTestService(plc.url, { serviceId: 'atproto_labeler', type: 'AtprotoLabeler' });
  env = await startAccountsEnv({
    PDS_DID_PLC_URL: plc.url,
    PDS_BSKY_APP_VIEW_URL: appView.url,
    PDS_BSKY_APP_VIEW_DID: appView.did,
    PDS_REPORT_SERVICE_URL: reports.url,
    PDS_REPORT_SERVICE_DID: reports.did,
    // Chat is known only by its DID document, which puts it on loopback: the development-only switch lets it be reached.
    PDS_DISABLE_SSRF_PROTECTION: 'true',
  });
  alice = await signUp(env, 'e2e-alice');

  appView.on('app.bsky.actor.getProfile', (_call, res) => json(res, 200, { did: alice.did, handle: alice.handle, followersCount: 3 }));
  appView.on('app.bsky.feed.getTimeline', (_call, res) => json(res, 200, { feed: [], cursor: 'next' }));
  appView.on('app.bsky.notification.listNotifications', (_call, res) => json(res, 200, { notifications: [], seenAt: '2026-01-01T00:00:00.000Z' }));
  chat.on('chat.bsky.convo.listConvos', (_call, res) => json(res, 200, { convos: [] }));
  chat.on('chat.bsky.convo.sendMessage', (call, res) => {
    const input = JSON.parse(call.body.toString('utf8')) as { convoId: string; message: { text: string } };
    json(res, 200, { id: 'm1', rev: '1', text: input.message.text, sender: { did: alice.did }, sentAt: new Date().toISOString() });
  });
  reports.on('com.atproto.moderation.createReport', (call, res) => {
    const input = JSON.parse(call.body.toString('utf8')) as Record<string, unknown>;
    json(res, 200, { id: 7, reasonType: input.reasonType, subject: input.subject, reportedBy: call.jwt!.iss, createdAt: new Date().toISOString() });
  });
});
after(async () => {
  await env.close();
  for (const service of [appView, chat, reports]) await service.close();
  await plc.close();
});

const last = (service: TestService, nsid: string) => service.calls(nsid).at(-1)!;

describe('the official client through Squall', () => {
  it('reads a profile, the timeline and notifications from the AppView', async () => {
    assert.equal((await alice.agent.getProfile({ actor: alice.handle })).data.followersCount, 3);
    assert.equal((await alice.agent.getTimeline({ limit: 10 })).data.cursor, 'next');
    assert.deepEqual((await alice.agent.app.bsky.notification.listNotifications()).data.notifications, []);
    for (const nsid of ['app.bsky.actor.getProfile', 'app.bsky.feed.getTimeline', 'app.bsky.notification.listNotifications']) {
      const call = last(appView, nsid);
      assert.deepEqual([call.jwt?.iss, call.jwt?.aud, call.jwt?.lxm], [alice.did, appView.did, nsid]);
    }
    assert.equal(last(appView, 'app.bsky.feed.getTimeline').search, '?limit=10');
  });

  it('talks to the chat service the client names with withProxy', async () => {
    const dms = alice.agent.withProxy('bsky_chat', chat.did);
    assert.deepEqual((await dms.chat.bsky.convo.listConvos()).data.convos, []);
    const sent = await dms.chat.bsky.convo.sendMessage({ convoId: 'c1', message: { text: 'hi' } });
    assert.equal(sent.data.text, 'hi');
    const call = last(chat, 'chat.bsky.convo.sendMessage');
    assert.deepEqual([call.jwt?.iss, call.jwt?.aud, call.jwt?.lxm], [alice.did, chat.did, 'chat.bsky.convo.sendMessage']);
    assert.equal(call.headers['atproto-proxy'], undefined);
  });

  it('files a report with the report service', async () => {
    const subject = { $type: 'com.atproto.admin.defs#repoRef', did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz' };
    const { data } = await alice.agent.com.atproto.moderation.createReport({ reasonType: 'com.atproto.moderation.defs#reasonSpam', subject });
    assert.equal(data.id, 7);
    assert.equal(data.reportedBy, alice.did);
    const call = last(reports, 'com.atproto.moderation.createReport');
    assert.deepEqual([call.jwt?.aud, call.jwt?.lxm], [reports.did, 'com.atproto.moderation.createReport']);
  });

  it('keeps chat from an app password that is not privileged, and lets a privileged one through', async () => {
    const before = chat.received.length;
    const { data: plain } = await alice.agent.com.atproto.server.createAppPassword({ name: 'plain' });
    const phone = await logIn(env, alice.handle, plain.password);
    const err = await xrpcError(phone.withProxy('bsky_chat', chat.did).chat.bsky.convo.listConvos());
    assert.deepEqual([err.status, err.error], [403, 'Forbidden']);
    assert.equal(chat.received.length, before);
    // The same session still reaches the AppView.
    assert.equal((await phone.getProfile({ actor: alice.handle })).data.did, alice.did);

    const { data: trusted } = await alice.agent.com.atproto.server.createAppPassword({ name: 'trusted', privileged: true });
    const laptop = await logIn(env, alice.handle, trusted.password);
    assert.deepEqual((await laptop.withProxy('bsky_chat', chat.did).chat.bsky.convo.listConvos()).data.convos, []);
    assert.equal(chat.received.length, before + 1);
  });
});
