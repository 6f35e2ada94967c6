import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, AtpAgent } from '@atproto/api';
import { buildAtprotoLoopbackClientMetadata } from '@atproto/oauth-client-node';
import { browserUnavailable, launchBrowser, type TestBrowser } from './helpers/browser.ts';
import { authorizeInBrowser, oauthClient, signIn } from './helpers/oauth.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const skip = browserUnavailable();
let plc: TestPlc;
let server: TestServer;
let browser: TestBrowser;
let did: string;

before(async () => {
  if (skip) return;
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  const agent = new AtpAgent({ service: server.url });
  await agent.createAccount({ handle: 'oauth-alice.test', email: 'oa@example.com', password: 'alice-password-1' });
  did = agent.session!.did;
  browser = await launchBrowser();
});
after(async () => {
  if (skip) return;
  await browser.close();
  await server.close();
  await plc.close();
});

describe('OAuth with the official client and a real browser', { skip }, () => {
  it('lets a development (http://localhost) client sign in on the pages, post and read with DPoP, refresh, and revoke', async () => {
    const client = oauthClient({
      plcUrl: plc.url,
      pdsUrl: server.url,
      clientMetadata: buildAtprotoLoopbackClientMetadata({ scope: 'atproto transition:generic', redirect_uris: ['http://127.0.0.1/callback'] }),
    });
    const authorizeUrl = await client.authorize('oauth-alice.test', { scope: 'atproto transition:generic' });
    assert.equal(authorizeUrl.origin, new URL(server.server.ctx.config.service.publicUrl).origin);
    assert.ok(authorizeUrl.searchParams.get('request_uri')?.startsWith('urn:ietf:params:oauth:request_uri:'), 'the client pushed its request first');

    const context = await browser.newContext();
    const landed = await authorizeInBrowser(context, authorizeUrl.href, 'http://127.0.0.1/callback', async (page) => {
      await signIn(page, 'alice-password-1');
      await page.getByRole('button', { name: 'Authorize' }).click();
    });
    await context.close();
    assert.equal(landed.searchParams.get('iss'), server.server.ctx.oauth.issuer);

    const { session } = await client.callback(landed.searchParams);
    assert.equal(session.did, did);
    const agent = new Agent(session);
    const posted = await agent.post({ text: 'posted through OAuth', createdAt: new Date().toISOString() });
    const read = await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: posted.uri.split('/').pop()! });
    assert.equal((read.data.value as { text: string }).text, 'posted through OAuth');
    const me = await agent.com.atproto.server.getSession();
    assert.equal(me.data.did, did);
    assert.equal(me.data.email, undefined, 'no email without account:email or transition:email');

    const [before] = await server.server.ctx.oauth.store.listSessions(did);
    await session.getTokenInfo(true);
    const [after] = await server.server.ctx.oauth.store.listSessions(did);
    assert.equal(after.id, before.id);
    assert.notEqual(after.refreshHash, before.refreshHash, 'the refresh token was rotated');
    const afterRefresh = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post' });
    assert.equal(afterRefresh.data.records.length, 1);

    await session.signOut();
    assert.deepEqual(await server.server.ctx.oauth.store.listSessions(did), [], 'revocation ends the session on the server');
  });
});
