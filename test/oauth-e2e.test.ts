import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, AtpAgent } from '@atproto/api';
import { buildAtprotoLoopbackClientMetadata, JoseKey } from '@atproto/oauth-client-node';
import { browserUnavailable, launchBrowser, type TestBrowser } from './helpers/browser.ts';
import { resolveTestHosts, startClientHost, type ClientHost } from './helpers/client-host.ts';
import { authorizeInBrowser, oauthClient, signIn } from './helpers/oauth.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const skip = browserUnavailable();
let plc: TestPlc;
let server: TestServer;
let browser: TestBrowser;
let did: string;
let host: ClientHost;

before(async () => {
  if (skip) return;
  plc = await startTestPlc();
  host = await startClientHost();
  // Development mode lets the test's confidential client_id carry a port (https://client.squall.test:<port>).
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_DEV_MODE: 'true', PDS_DISABLE_SSRF_PROTECTION: 'true' }, { network: { resolveHost: resolveTestHosts } });
  const agent = new AtpAgent({ service: server.url });
  await agent.createAccount({ handle: 'oauth-alice.test', email: 'oa@example.com', password: 'alice-password-1' });
  did = agent.session!.did;
  browser = await launchBrowser();
});
after(async () => {
  if (skip) return;
  await browser.close();
  await server.close();
  await host.close();
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

  it('lets a confidential private_key_jwt client, whose metadata the test serves, do the same', async () => {
    const clientId = `${host.origin}/client-metadata.json`;
    const redirect = `${host.origin}/callback`;
    const client = oauthClient({
      plcUrl: plc.url,
      pdsUrl: server.url,
      keyset: [await JoseKey.generate(['ES256'], 'key-1')],
      clientMetadata: {
        client_id: clientId,
        client_name: 'Squall Test App',
        client_uri: host.origin,
        redirect_uris: [redirect],
        scope: 'atproto transition:generic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        application_type: 'web',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        dpop_bound_access_tokens: true,
      },
    });
    host.serve('/client-metadata.json', client.clientMetadata as Record<string, unknown>);
    const authorizeUrl = await client.authorize('oauth-alice.test', { scope: 'atproto transition:generic' });
    assert.equal(host.hits.get('/client-metadata.json'), 1, 'Squall fetched the metadata document');

    const context = await browser.newContext();
    const landed = await authorizeInBrowser(context, authorizeUrl.href, redirect, async (page) => {
      await signIn(page, 'alice-password-1');
      await page.getByText('Squall Test App').first().waitFor();
      await page.getByRole('button', { name: 'Authorize' }).click();
    });
    await context.close();

    const { session } = await client.callback(landed.searchParams);
    const agent = new Agent(session);
    const posted = await agent.post({ text: 'from a confidential client', createdAt: new Date().toISOString() });
    assert.match(posted.uri, new RegExp(`^at://${did}/app.bsky.feed.post/`));
    const [stored] = (await server.server.ctx.oauth.store.listSessions(did)).filter((s) => s.clientId === clientId);
    assert.equal(stored.clientAuth.method, 'private_key_jwt');
    assert.ok(stored.expiresAt.getTime() - stored.createdAt.getTime() > 365 * 24 * 3600_000, 'confidential sessions have no two-week limit');
    await session.getTokenInfo(true);
    const [refreshed] = (await server.server.ctx.oauth.store.listSessions(did)).filter((s) => s.clientId === clientId);
    assert.notEqual(refreshed.refreshHash, stored.refreshHash);
    assert.equal((await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post' })).data.records.length, 2);
    await session.signOut();
    assert.equal((await server.server.ctx.oauth.store.listSessions(did)).filter((s) => s.clientId === clientId).length, 0);
  });
});
