import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
});
after(async () => {
  await server.close();
  await plc.close();
});

describe('the Lexicon documents a started server has read', () => {
  it('are those its method table and the common record types need; any other is read when first needed', () => {
    const { lexicons } = server.server.ctx;
    const loaded = lexicons.loadedIds();
    assert.ok(loaded.includes('com.atproto.repo.createRecord') && loaded.includes('app.bsky.actor.putPreferences'), 'the registered methods are read');
    for (const id of ['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.graph.follow', 'app.bsky.actor.profile', 'app.bsky.embed.images']) assert.ok(loaded.includes(id), `${id} is ready`);
    assert.deepEqual(loaded.filter((id) => /^(chat|tools)\./.test(id) || id === 'app.bsky.feed.getTimeline' || id === 'app.bsky.graph.block'), []);
    assert.ok(loaded.length < lexicons.size / 2, `${loaded.length} of ${lexicons.size} documents read`);
    const block = lexicons.validateRecord('app.bsky.graph.block', { $type: 'app.bsky.graph.block', subject: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz', createdAt: new Date().toISOString() });
    assert.equal(block.success, true);
    assert.ok(lexicons.loadedIds().includes('app.bsky.graph.block'), 'read on its first validation');
  });
});

describe('accounts and records with the official client', () => {
  it('creates an account, posts, reads the post back and lists it', async () => {
    const agent = new AtpAgent({ service: server.url });
    const created = await agent.createAccount({ handle: 'alice.test', email: 'alice@example.com', password: 'alice-password-1' });
    assert.match(created.data.did, /^did:plc:[a-z2-7]{24}$/);
    assert.equal(created.data.handle, 'alice.test');

    const plcDoc = (await (await fetch(`${plc.url}/${created.data.did}`)).json()) as { alsoKnownAs: string[]; service: Array<{ serviceEndpoint: string }> };
    assert.deepEqual(plcDoc.alsoKnownAs, ['at://alice.test']);
    assert.equal(plcDoc.service[0].serviceEndpoint, server.server.ctx.config.service.publicUrl);

    const post = await agent.post({ text: 'hello from squall', createdAt: new Date().toISOString() });
    assert.match(post.uri, new RegExp(`^at://${created.data.did}/app.bsky.feed.post/`));
    const rkey = post.uri.split('/').pop()!;
    const got = await agent.com.atproto.repo.getRecord({ repo: 'alice.test', collection: 'app.bsky.feed.post', rkey });
    assert.equal((got.data.value as { text: string }).text, 'hello from squall');
    assert.equal(got.data.cid, post.cid);

    const list = await agent.com.atproto.repo.listRecords({ repo: created.data.did, collection: 'app.bsky.feed.post' });
    assert.equal(list.data.records.length, 1);
    assert.equal(list.data.cursor, undefined);

    const latest = await agent.com.atproto.sync.getLatestCommit({ did: created.data.did });
    assert.ok(latest.data.rev);
  });

  it('logs in by handle and by email, refreshes, and logs out', async () => {
    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'bob.test', email: 'bob@example.com', password: 'bob-password-1' });
    const byHandle = new AtpAgent({ service: server.url });
    await byHandle.login({ identifier: 'bob.test', password: 'bob-password-1' });
    const byEmail = new AtpAgent({ service: server.url });
    await byEmail.login({ identifier: 'BOB@example.com', password: 'bob-password-1' });
    const session = await byEmail.com.atproto.server.getSession();
    assert.equal(session.data.handle, 'bob.test');
    assert.equal(session.data.email, 'bob@example.com');
    const refreshJwt = byEmail.session!.refreshJwt;
    const refreshed = await byEmail.com.atproto.server.refreshSession(undefined, { headers: { authorization: `Bearer ${refreshJwt}` } });
    assert.notEqual(refreshed.data.refreshJwt, refreshJwt);
    await byEmail.com.atproto.server.deleteSession(undefined, { headers: { authorization: `Bearer ${refreshed.data.refreshJwt}` } });
    const replay = await fetch(`${server.url}/xrpc/com.atproto.server.refreshSession`, { method: 'POST', headers: { authorization: `Bearer ${refreshJwt}` } });
    assert.equal(replay.status, 401);
  });
});

describe('P-256 repo signing keys', () => {
  it('signs with P-256 when configured, and the official libraries verify the repo', async () => {
    const { readCarWithRoot, verifyRepo } = await import('@atproto/repo');
    const p256 = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_REPO_SIGNING_KEY_ALG: 'ES256' });
    try {
      const agent = new AtpAgent({ service: p256.url });
      const { data } = await agent.createAccount({ handle: 'p256.test', email: 'p256@example.com', password: 'p256-password-1' });
      await agent.post({ text: 'signed with P-256', createdAt: new Date().toISOString() });
      const key = (await testIdResolver(plc.url).did.resolveAtprotoKey(data.did)) as string;
      assert.match(key, /^did:key:zDn/, 'a P-256 did:key');
      const car = new Uint8Array(await (await fetch(`${p256.url}/xrpc/com.atproto.sync.getRepo?did=${data.did}`)).arrayBuffer());
      const { root, blocks } = await readCarWithRoot(car);
      const repo = await verifyRepo(blocks, root, data.did, key);
      assert.equal(repo.creates.length, 1);
    } finally {
      await p256.close();
    }
  });
});
