import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { resolveTestHosts, startClientHost, type ClientHost } from './helpers/client-host.ts';
import { ClientSigner, DpopKey, ManualClient } from './helpers/oauth-manual.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let host: ClientHost;
let server: TestServer;
let production: TestServer;
const HANDLE = 'conf-alice.test';
const PASSWORD = 'alice-password-1';

before(async () => {
  plc = await startTestPlc();
  host = await startClientHost();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_DEV_MODE: 'true', PDS_DISABLE_SSRF_PROTECTION: 'true' }, { network: { resolveHost: resolveTestHosts } });
  // An operator's server: no private addresses, no development mode; names still resolve to the test host.
  production = await startTestServer({ PDS_DID_PLC_URL: plc.url }, { network: { resolveHost: resolveTestHosts } });
  await new AtpAgent({ service: server.url }).createAccount({ handle: HANDLE, email: 'ca@example.com', password: PASSWORD });
});
after(async () => {
  await production.close();
  await server.close();
  await host.close();
  await plc.close();
});

const base = () => server.server.ctx.oauth.issuer;
let counter = 0;

/** Publishes a confidential client's metadata (inline jwks unless told otherwise) and returns a client for it. */
async function confidentialClient(opts: { keys?: ClientSigner[]; jwksUri?: boolean; scope?: string; extra?: Record<string, unknown> } = {}) {
  const path = `/client-${++counter}/client-metadata.json`;
  const clientId = `${host.origin}${path}`;
  const redirectUri = `${host.origin}/client-${counter}/callback`;
  const keys = opts.keys ?? [await ClientSigner.generate('k1')];
  const jwks = { keys: keys.map((k) => k.jwk) };
  if (opts.jwksUri) host.serve(`/client-${counter}/jwks.json`, jwks);
  host.serve(path, {
    client_id: clientId,
    client_name: `Confidential ${counter}`,
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: opts.scope ?? 'atproto transition:generic',
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    dpop_bound_access_tokens: true,
    ...(opts.jwksUri ? { jwks_uri: `${host.origin}/client-${counter}/jwks.json` } : { jwks }),
    ...opts.extra,
  });
  const client = new ManualClient(base(), await DpopKey.generate(), opts.scope ?? 'atproto transition:generic', { clientId, redirectUri, signer: keys[0] });
  return { client, keys, path, counter, jwks };
}

describe('confidential clients (private_key_jwt)', () => {
  it('sign in with a fresh assertion on every request', async () => {
    const { client } = await confidentialClient();
    const tokens = await client.signIn(HANDLE, PASSWORD);
    assert.equal((await client.xrpc('GET', 'com.atproto.server.getSession', tokens.access)).status, 200);
    const refreshed = await client.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh, client_id: client.clientId });
    assert.equal(refreshed.status, 200);
  });

  it('are refused without an assertion, or with one signed by a key not in their metadata', async () => {
    const { client } = await confidentialClient();
    const { params } = client.parParams();
    const none = await client.post('/oauth/par', { ...params, client_assertion: undefined, client_assertion_type: undefined });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_client');
    assert.match(String(none.body.error_description), /authenticates with private_key_jwt/);
    const forger = await ClientSigner.generate('k1');
    const forged = await client.post('/oauth/par', { ...client.parParams().params, client_assertion: await forger.assertion(client.clientId, base()) });
    assert.equal(forged.status, 401);
    assert.match(String(forged.body.error_description), /not signed by any key/);
  });

  it('refuse a replayed assertion, another audience, and an expired one', async () => {
    const { client, keys } = await confidentialClient();
    const assertion = await keys[0].assertion(client.clientId, base());
    assert.equal((await client.post('/oauth/par', { ...client.parParams().params, client_assertion: assertion })).status, 201);
    const replay = await client.post('/oauth/par', { ...client.parParams().params, client_assertion: assertion });
    assert.equal(replay.status, 401);
    assert.match(String(replay.body.error_description), /already used/);
    const elsewhere = await client.post('/oauth/par', { ...client.parParams().params, client_assertion: await keys[0].assertion(client.clientId, 'https://other.example.com') });
    assert.match(String(elsewhere.body.error_description), /"aud" equal to the issuer/);
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await client.post('/oauth/par', { ...client.parParams().params, client_assertion: await keys[0].assertion(client.clientId, base(), { iat: past, exp: past + 60 }) });
    assert.equal(expired.status, 401);
  });

  it('keep the session bound to the key that started it', async () => {
    const k1 = await ClientSigner.generate('k1');
    const k2 = await ClientSigner.generate('k2');
    const { client } = await confidentialClient({ keys: [k1, k2] });
    const tokens = await client.signIn(HANDLE, PASSWORD);
    client.signer = k2;
    const answer = await client.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh, client_id: client.clientId });
    assert.equal(answer.status, 400);
    assert.match(String(answer.body.error_description), /same method and key/);
  });

  it('fetch keys from jwks_uri, and lose the session once its key leaves the set', async () => {
    const k1 = await ClientSigner.generate('k1');
    const k2 = await ClientSigner.generate('k2');
    const { client, counter: n } = await confidentialClient({ keys: [k1, k2], jwksUri: true });
    const tokens = await client.signIn(HANDLE, PASSWORD);
    host.serve(`/client-${n}/jwks.json`, { keys: [k2.jwk] });
    // What the cache does every few minutes, done now.
    await server.server.ctx.oauth.clients.refresh(client.clientId);
    const refused = await client.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh, client_id: client.clientId });
    assert.equal(refused.status, 401);
    assert.equal((await client.xrpc('GET', 'com.atproto.server.getSession', tokens.access)).status, 401, 'the session was revoked');
  });

  it('cannot be impersonated by a public client using their client_id', async () => {
    const { client } = await confidentialClient();
    client.signer = undefined;
    const answer = await client.post('/oauth/par', client.parParams().params);
    assert.equal(answer.status, 401);
  });
});

describe('client metadata documents that are wrong', () => {
  let key: DpopKey;
  before(async () => {
    key = await DpopKey.generate();
  });
  const par = (clientId: string) => {
    const client = new ManualClient(base(), key, 'atproto', { clientId, redirectUri: `${host.origin}/cb` });
    return client.post('/oauth/par', client.parParams().params);
  };

  async function refusedWith(path: string, doc: Parameters<ClientHost['serve']>[1], message: RegExp) {
    host.serve(path, doc);
    const answer = await par(`${host.origin}${path}`);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'invalid_client_metadata');
    assert.match(String(answer.body.error_description), message);
  }

  const valid = (path: string) => ({
    client_id: `${host.origin}${path}`,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'atproto',
    redirect_uris: [`${host.origin}/cb`],
    dpop_bound_access_tokens: true,
  });

  it('say which field is wrong and why', async () => {
    await refusedWith('/bad/1.json', { ...valid('/bad/1.json'), redirect_uris: ['http://elsewhere.example.com/cb'] }, /"redirect_uris"\[0\] "http:\/\/elsewhere.example.com\/cb" uses http/);
    await refusedWith('/bad/2.json', { ...valid('/bad/2.json'), client_id: 'https://someone.else.example/meta.json' }, /"client_id" must be exactly the URL it is served from/);
    await refusedWith('/bad/3.json', { ...valid('/bad/3.json'), dpop_bound_access_tokens: undefined }, /"dpop_bound_access_tokens" must be true/);
    await refusedWith('/bad/4.json', { ...valid('/bad/4.json'), token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256' }, /"jwks" or "jwks_uri" is required/);
  });

  it('say when the document cannot be had: missing, not JSON, redirected, too large', async () => {
    const missing = await par(`${host.origin}/nothing-here.json`);
    assert.match(String(missing.body.error_description), /answered HTTP 404/);
    await refusedWith('/bad/html.json', { body: '<html></html>', contentType: 'text/html' }, /Content-Type "text\/html"/);
    await refusedWith('/bad/broken.json', { body: '{"client_id":', contentType: 'application/json' }, /not valid JSON/);
    await refusedWith('/bad/moved.json', { status: 302, body: '', headers: { location: `${host.origin}/elsewhere.json` } }, /answered HTTP 302/);
    await refusedWith('/bad/huge.json', { ...valid('/bad/huge.json'), client_name: 'x'.repeat(70_000) }, /more than the 65536 allowed/);
  });

  it('still sign in a client that declares scopes Squall does not know', async () => {
    const path = '/future/client-metadata.json';
    host.serve(path, { ...valid(path), scope: 'atproto future:permission' });
    const client = new ManualClient(base(), await DpopKey.generate(), 'atproto future:permission', { clientId: `${host.origin}${path}`, redirectUri: `${host.origin}/cb` });
    const { code, verifier } = await client.authorize(HANDLE, PASSWORD);
    const tokens = await client.exchange(code!, verifier);
    assert.equal(tokens.status, 200);
    assert.equal(tokens.body.scope, 'atproto');
  });
});

describe('an operator server (no development mode, no private addresses)', () => {
  it('refuses a client whose metadata URL resolves to a private address', async () => {
    const clientId = 'https://client.squall.test/client-metadata.json';
    const client = new ManualClient(production.server.ctx.oauth.issuer, await DpopKey.generate(), 'atproto', { clientId, redirectUri: 'https://client.squall.test/cb' });
    const answer = await client.post('/oauth/par', client.parParams().params);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'invalid_client_metadata');
    assert.match(String(answer.body.error_description), /could not be fetched: refusing to connect to client\.squall\.test: 127\.0\.0\.1 is a loopback address/);
  });

  it('refuses a client_id with a port', async () => {
    const clientId = `${host.origin}/client-metadata.json`;
    const client = new ManualClient(production.server.ctx.oauth.issuer, await DpopKey.generate(), 'atproto', { clientId, redirectUri: `${host.origin}/cb` });
    const answer = await client.post('/oauth/par', client.parParams().params);
    assert.match(String(answer.body.error_description), /must not contain a port/);
  });
});
