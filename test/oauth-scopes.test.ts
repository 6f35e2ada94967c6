import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { OAUTH_PATHS } from '../src/oauth/http/router.ts';
import { DpopKey, ManualClient } from './helpers/oauth-manual.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let did: string;
const HANDLE = 'scope-alice.test';
const PASSWORD = 'alice-password-1';
const NARROW = 'atproto repo:app.bsky.feed.like?action=create blob:image/*';
const WIDE = 'atproto transition:generic transition:email';

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  const agent = new AtpAgent({ service: server.url });
  await agent.createAccount({ handle: HANDLE, email: 'sa@example.com', password: PASSWORD });
  did = agent.session!.did;
});
after(async () => {
  await server.close();
  await plc.close();
});

async function signedIn(scope: string) {
  const client = new ManualClient(server.server.ctx.oauth.issuer, await DpopKey.generate(), scope);
  const tokens = await client.signIn(HANDLE, PASSWORD);
  assert.equal(tokens.scope, scope);
  return { client, access: tokens.access };
}

const record = (collection: string) => ({ repo: did, collection, record: { $type: collection, createdAt: new Date().toISOString(), text: 'x', subject: { uri: `at://${did}/app.bsky.feed.post/3k2a4bxyzzz22`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' } } });

async function missingScope(answer: { status: number; body: Record<string, unknown> }, scope: string) {
  assert.equal(answer.status, 403, JSON.stringify(answer.body));
  assert.equal(answer.body.error, 'ScopeMissingError');
  assert.equal(answer.body.message, `Missing required scope "${scope}"`);
}

describe('a narrow OAuth grant', () => {
  let c: ManualClient;
  let access: string;
  before(async () => {
    ({ client: c, access } = await signedIn(NARROW));
  });

  it('may do what it was granted: create likes, upload images', async () => {
    const like = await c.xrpc('POST', 'com.atproto.repo.createRecord', access, record('app.bsky.feed.like'));
    assert.equal(like.status, 200, JSON.stringify(like.body));
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const upload = await c.xrpc('POST', 'com.atproto.repo.uploadBlob', access, png, { contentType: 'image/png' });
    assert.equal(upload.status, 200, JSON.stringify(upload.body));
  });

  it('gets 403 naming the missing repo: scope for other collections and actions', async () => {
    await missingScope(await c.xrpc('POST', 'com.atproto.repo.createRecord', access, record('app.bsky.feed.post')), 'repo:app.bsky.feed.post?action=create');
    await missingScope(await c.xrpc('POST', 'com.atproto.repo.deleteRecord', access, { repo: did, collection: 'app.bsky.feed.like', rkey: 'x' }), 'repo:app.bsky.feed.like?action=delete');
    await missingScope(await c.xrpc('POST', 'com.atproto.repo.putRecord', access, { ...record('app.bsky.feed.like'), rkey: '3k2a4bxyzzz22' }), 'repo:app.bsky.feed.like?action=update');
    const batch = await c.xrpc('POST', 'com.atproto.repo.applyWrites', access, {
      repo: did,
      writes: [
        { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.like', value: record('app.bsky.feed.like').record },
        { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.graph.follow', value: { $type: 'app.bsky.graph.follow', subject: did, createdAt: new Date().toISOString() } },
      ],
    });
    await missingScope(batch, 'repo:app.bsky.graph.follow?action=create');
  });

  it('gets 403 naming the missing blob:, rpc:, identity: or account: scope', async () => {
    await missingScope(await c.xrpc('POST', 'com.atproto.repo.uploadBlob', access, 'text', { contentType: 'text/plain' }), 'blob:text/plain');
    await missingScope(await c.xrpc('GET', 'app.bsky.actor.getPreferences', access), 'rpc:app.bsky.actor.getPreferences?aud=*');
    await missingScope(await c.xrpc('POST', 'com.atproto.identity.updateHandle', access, { handle: 'other.test' }), 'identity:handle');
    await missingScope(await c.xrpc('POST', 'com.atproto.server.requestEmailConfirmation', access), 'account:email?action=manage');
    await missingScope(
      await c.xrpc('GET', 'com.atproto.server.getServiceAuth', access, undefined, { query: 'aud=did:web:api.bsky.app%23bsky_appview&lxm=app.bsky.feed.getTimeline' }),
      'rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview',
    );
  });

  it('reads its own session, without the email', async () => {
    const session = await c.xrpc('GET', 'com.atproto.server.getSession', access);
    assert.equal(session.status, 200);
    assert.equal(session.body.did, did);
    assert.equal(session.body.email, undefined);
  });
});

describe('a wide OAuth grant (transition:generic, transition:email)', () => {
  let c: ManualClient;
  let access: string;
  before(async () => {
    ({ client: c, access } = await signedIn(WIDE));
  });

  it('writes any record, reads preferences and sees the email', async () => {
    assert.equal((await c.xrpc('POST', 'com.atproto.repo.createRecord', access, record('app.bsky.feed.post'))).status, 200);
    assert.equal((await c.xrpc('GET', 'app.bsky.actor.getPreferences', access)).status, 200);
    const session = await c.xrpc('GET', 'com.atproto.server.getSession', access);
    assert.equal(session.body.email, 'sa@example.com');
    const serviceAuth = await c.xrpc('GET', 'com.atproto.server.getServiceAuth', access, undefined, { query: 'aud=did:web:api.bsky.app%23bsky_appview&lxm=app.bsky.feed.getTimeline' });
    assert.equal(serviceAuth.status, 200);
  });

  it('still cannot manage credentials or the identity', async () => {
    const appPassword = await c.xrpc('POST', 'com.atproto.server.createAppPassword', access, { name: 'x' });
    assert.equal(appPassword.status, 403);
    assert.match(String(appPassword.body.message), /OAuth credentials are not supported/);
    await missingScope(await c.xrpc('POST', 'com.atproto.identity.updateHandle', access, { handle: 'other.test' }), 'identity:handle');
    await missingScope(
      await c.xrpc('GET', 'com.atproto.server.getServiceAuth', access, undefined, { query: 'aud=did:web:api.bsky.chat%23bsky_chat&lxm=chat.bsky.convo.sendMessage' }),
      'rpc:chat.bsky.convo.sendMessage?aud=did:web:api.bsky.chat%23bsky_chat',
    );
  });
});

describe('the README', () => {
  it('lists every OAuth path in its reverse-proxy section', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Behind a reverse proxy'));
    for (const path of OAUTH_PATHS) {
      const listed = section.includes(`\`${path}\``) || (path.startsWith('/oauth/account/') && section.includes('`/oauth/account/*`')) || (path.startsWith('/oauth/assets/') && section.includes('`/oauth/assets/*`'));
      assert.ok(listed, `${path} is missing from the README's reverse-proxy section`);
    }
  });
});
