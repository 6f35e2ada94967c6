import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { DpopNonces } from '../src/oauth/dpop/nonces.ts';
import { deriveKey } from '../src/oauth/provider.ts';
import { athOf, csrfOf, DpopKey, ManualClient, PageSession } from './helpers/oauth-manual.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let key: DpopKey;
const HANDLE = 'proto-alice.test';
const PASSWORD = 'alice-password-1';

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  await new AtpAgent({ service: server.url }).createAccount({ handle: HANDLE, email: 'pa@example.com', password: PASSWORD });
  key = await DpopKey.generate();
});
after(async () => {
  await server.close();
  await plc.close();
});

// Requests go to the public URL (what DPoP proofs name), http://localhost:<port>.
const base = () => server.server.ctx.oauth.issuer;
const client = (scope?: string) => new ManualClient(base(), key, scope);
const post = { $type: 'app.bsky.feed.post', text: 'hello', createdAt: new Date().toISOString() };

describe('OAuth metadata', () => {
  it('publishes resource and authorization server metadata that agree, with the configured public URL', async () => {
    const issuer = server.server.ctx.oauth.issuer;
    const prm = (await (await fetch(`${server.url}/.well-known/oauth-protected-resource`)).json()) as Record<string, any>;
    const as = (await (await fetch(`${server.url}/.well-known/oauth-authorization-server`, { headers: { host: 'alice.test' } })).json()) as Record<string, any>;
    assert.deepEqual(prm.authorization_servers, [issuer]);
    assert.equal(prm.resource, issuer);
    assert.equal(as.issuer, issuer, 'the issuer does not follow the Host header');
    assert.equal(as.pushed_authorization_request_endpoint, `${issuer}/oauth/par`);
    assert.equal(as.require_pushed_authorization_requests, true);
    assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
    assert.ok(as.dpop_signing_alg_values_supported.includes('ES256'));
    assert.ok(as.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
    assert.equal(as.client_id_metadata_document_supported, true);
    assert.equal(as.authorization_response_iss_parameter_supported, true);
  });
});

describe('pushed authorization requests', () => {
  it('refuses an authorization request that was not pushed first', async () => {
    const c = client();
    const page = await new PageSession(base()).get(`/oauth/authorize?client_id=${encodeURIComponent(c.clientId)}&response_type=code&redirect_uri=${encodeURIComponent(c.redirectUri)}&state=x`);
    assert.equal(page.status, 400);
    assert.match(page.text, /Pushed authorization requests are required/);
  });

  it('refuses a request without PKCE, or with the plain method', async () => {
    const c = client();
    const none = await c.post('/oauth/par', c.parParams({ code_challenge: undefined, code_challenge_method: undefined }).params);
    assert.equal(none.status, 400);
    assert.match(String(none.body.error_description), /code_challenge is required/);
    const plain = await c.post('/oauth/par', c.parParams({ code_challenge_method: 'plain' }).params);
    assert.equal(plain.status, 400);
    assert.match(String(plain.body.error_description), /S256/);
  });

  it('refuses a request without a DPoP proof', async () => {
    const c = client();
    const answer = await c.post('/oauth/par', c.parParams().params, { key: null });
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'invalid_dpop_proof');
  });

  it('asks for a nonce with use_dpop_nonce, then accepts the proof that carries it', async () => {
    const c = client();
    const first = await c.post('/oauth/par', c.parParams().params, { claims: { nonce: undefined }, proof: await key.proof('POST', `${base()}/oauth/par`) });
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    assert.ok(first.headers.get('dpop-nonce'));
    assert.match(first.headers.get('www-authenticate') ?? '', /^DPoP error="use_dpop_nonce"/);
    const second = await c.post('/oauth/par', c.parParams().params);
    assert.equal(second.status, 201);
  });

  it('refuses a redirect_uri the client did not register', async () => {
    const c = client();
    const answer = await c.post('/oauth/par', c.parParams({ redirect_uri: 'https://evil.example.com/cb' }).params);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'invalid_redirect_uri');
  });

  it('refuses a scope the client metadata does not declare, naming it', async () => {
    const c = client('atproto');
    const answer = await c.post('/oauth/par', c.parParams({ scope: 'atproto transition:generic' }).params);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'invalid_scope');
    assert.match(String(answer.body.error_description), /"transition:generic" is not declared/);
  });

  it('refuses a reused code_challenge', async () => {
    const c = client();
    const { params } = c.parParams();
    assert.equal((await c.post('/oauth/par', params)).status, 201);
    const again = await c.post('/oauth/par', { ...params, state: 'another' });
    assert.equal(again.status, 400);
    assert.match(String(again.body.error_description), /code_challenge was already used/);
  });
});

describe('the authorization code grant', () => {
  it('redirects with error=access_denied, the state and the issuer when the user denies', async () => {
    const c = client();
    const { redirect, state } = await c.authorize(HANDLE, PASSWORD, { decision: 'deny' });
    assert.equal(redirect.origin + redirect.pathname, c.redirectUri);
    assert.equal(redirect.searchParams.get('error'), 'access_denied');
    assert.equal(redirect.searchParams.get('state'), state);
    assert.equal(redirect.searchParams.get('iss'), server.server.ctx.oauth.issuer);
    assert.equal(redirect.searchParams.get('code'), null);
  });

  it('issues DPoP-bound tokens with the granted scope and the account DID', async () => {
    const c = client();
    const { code, verifier } = await c.authorize(HANDLE, PASSWORD);
    const answer = await c.exchange(code!, verifier);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.token_type, 'DPoP');
    assert.equal(answer.body.scope, 'atproto transition:generic');
    assert.match(String(answer.body.sub), /^did:plc:/);
    assert.ok(Number(answer.body.expires_in) <= 30 * 60, 'access tokens live under 30 minutes');
    assert.equal(answer.headers.get('cache-control'), 'no-store');
  });

  it('refuses a wrong code_verifier, another redirect_uri, or another DPoP key', async () => {
    const c = client();
    for (const [extra, opts, why] of [
      [{ code_verifier: 'x'.repeat(43) }, {}, /code_verifier does not match/],
      [{ redirect_uri: 'http://127.0.0.1/other' }, {}, /redirect_uri must be the one/],
      [{}, { key: await DpopKey.generate() }, /DPoP key must be the one used/],
    ] as const) {
      const { code, verifier } = await c.authorize(HANDLE, PASSWORD);
      const answer = await c.exchange(code!, verifier, extra, opts as { key?: DpopKey });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, 'invalid_grant');
      assert.match(String(answer.body.error_description), why);
    }
  });

  it('refuses a second use of a code and revokes what the first use issued', async () => {
    const c = client();
    const { code, verifier } = await c.authorize(HANDLE, PASSWORD);
    const first = await c.exchange(code!, verifier);
    assert.equal(first.status, 200);
    const access = first.body.access_token as string;
    assert.equal((await c.xrpc('GET', 'com.atproto.server.getSession', access)).status, 200);
    const second = await c.exchange(code!, verifier);
    assert.equal(second.status, 400);
    assert.match(String(second.body.error_description), /already used/);
    const revoked = await c.xrpc('GET', 'com.atproto.server.getSession', access);
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error, 'invalid_token');
    const refresh = await c.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string, client_id: c.clientId });
    assert.equal(refresh.status, 400);
  });
});

describe('refresh tokens', () => {
  it('rotates on every refresh; a replayed refresh token revokes the session', async () => {
    const c = client();
    const tokens = await c.signIn(HANDLE, PASSWORD);
    const next = await c.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh, client_id: c.clientId });
    assert.equal(next.status, 200);
    assert.notEqual(next.body.refresh_token, tokens.refresh);
    const replay = await c.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh, client_id: c.clientId });
    assert.equal(replay.status, 400);
    assert.match(String(replay.body.error_description), /already used.*revoked/);
    const after = await c.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: next.body.refresh_token as string, client_id: c.clientId });
    assert.equal(after.status, 400, 'the whole session is gone');
  });

  it('refuses a refresh signed with another DPoP key', async () => {
    const c = client();
    const tokens = await c.signIn(HANDLE, PASSWORD);
    const answer = await c.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh, client_id: c.clientId }, { key: await DpopKey.generate() });
    assert.equal(answer.status, 400);
    assert.match(String(answer.body.error_description), /bound to another DPoP key/);
  });

  it('revokes a session by its refresh token (RFC 7009), and answers 200 for an unknown token', async () => {
    const c = client();
    const tokens = await c.signIn(HANDLE, PASSWORD);
    assert.equal((await c.post('/oauth/revoke', { token: tokens.refresh, client_id: c.clientId })).status, 200);
    assert.equal((await c.xrpc('GET', 'com.atproto.server.getSession', tokens.access)).status, 401);
    assert.equal((await c.post('/oauth/revoke', { token: 'not-a-token', client_id: c.clientId })).status, 200);
  });
});

describe('DPoP at the resource server', () => {
  let c: ManualClient;
  let access: string;
  before(async () => {
    c = client();
    ({ access } = await c.signIn(HANDLE, PASSWORD));
  });

  it('accepts the token with a valid proof and answers with a fresh DPoP-Nonce', async () => {
    const answer = await c.xrpc('GET', 'com.atproto.server.getSession', access);
    assert.equal(answer.status, 200);
    assert.ok(answer.headers.get('dpop-nonce'));
  });

  it('refuses the token sent as a Bearer token, saying it is DPoP-bound', async () => {
    const res = await fetch(`${server.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `Bearer ${access}` } });
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(res.status, 401);
    assert.match(body.message, /bound to a DPoP key/);
  });

  it('refuses a request without a proof', async () => {
    const res = await fetch(`${server.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `DPoP ${access}` } });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_dpop_proof');
  });

  it('refuses a proof for another URL or another method', async () => {
    const wrongHtu = await c.xrpc('GET', 'com.atproto.server.getSession', access, undefined, { claims: { htu: `${base()}/xrpc/com.atproto.server.describeServer` } });
    assert.equal(wrongHtu.status, 401);
    assert.match(String(wrongHtu.body.message), /htu/);
    const wrongHtm = await c.xrpc('GET', 'com.atproto.server.getSession', access, undefined, { claims: { htm: 'POST' } });
    assert.equal(wrongHtm.status, 401);
    assert.match(String(wrongHtm.body.message), /htm/);
  });

  it('checks htu against the public URL, not the Host header', async () => {
    const proof = await key.proof('GET', `http://evil.example.com/xrpc/com.atproto.server.getSession`, { nonce: c.nonce, ath: athOf(access) });
    const res = await fetch(`${server.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `DPoP ${access}`, dpop: proof, host: 'evil.example.com' } });
    assert.equal(res.status, 401);
  });

  it('refuses a replayed proof', async () => {
    const proof = await key.proof('GET', `${base()}/xrpc/com.atproto.server.getSession`, { nonce: c.nonce, ath: athOf(access) });
    const send = () => fetch(`${server.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `DPoP ${access}`, dpop: proof } });
    assert.equal((await send()).status, 200);
    const replay = await send();
    assert.equal(replay.status, 401);
    assert.match(((await replay.json()) as { message: string }).message, /already used/);
  });

  it('answers a stale nonce with use_dpop_nonce and a new nonce to retry with', async () => {
    const stale = new DpopNonces(deriveKey('test-jwt-secret-0123456789abcdef', 'dpop-nonce'), undefined, () => Date.now() - 10 * 60_000).current();
    const answer = await c.xrpc('GET', 'com.atproto.server.getSession', access, undefined, { claims: { nonce: stale } });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error, 'use_dpop_nonce');
    assert.match(answer.headers.get('www-authenticate') ?? '', /DPoP .*error="use_dpop_nonce"/);
    assert.ok(answer.headers.get('dpop-nonce'));
    assert.notEqual(answer.headers.get('dpop-nonce'), stale);
  });

  it('refuses a proof signed by another key than the token is bound to', async () => {
    const answer = await c.xrpc('GET', 'com.atproto.server.getSession', access, undefined, { key: await DpopKey.generate() });
    assert.equal(answer.status, 401);
    assert.match(String(answer.body.message), /another key/);
  });

  it('refuses a proof without the access token hash (ath)', async () => {
    const answer = await c.xrpc('GET', 'com.atproto.server.getSession', access, undefined, { claims: { ath: undefined } });
    assert.equal(answer.status, 401);
    assert.match(String(answer.body.message), /ath/);
  });
});

describe('the pages refuse forged form posts', () => {
  it('refuses a sign-in posted from another origin, or without the CSRF token', async () => {
    const c = client();
    const { requestUri } = await c.par();
    const pages = new PageSession(base());
    const page = await pages.get(`/oauth/authorize?request_uri=${encodeURIComponent(requestUri)}&client_id=${encodeURIComponent(c.clientId)}`);
    const csrf = csrfOf(page.text);
    const form = { request_uri: requestUri, client_id: c.clientId, identifier: HANDLE, password: PASSWORD };
    assert.equal((await pages.post('/oauth/authorize/sign-in', { ...form, csrf }, { origin: 'https://evil.example.com' })).status, 403);
    assert.equal((await pages.post('/oauth/authorize/sign-in', { ...form, csrf: 'forged' })).status, 403);
    assert.equal((await new PageSession(base()).post('/oauth/authorize/sign-in', { ...form, csrf })).status, 400, 'another browser (no cookie) cannot continue');
    assert.equal((await pages.post('/oauth/authorize/sign-in', { ...form, csrf })).status, 303);
  });

  it('serves pages with a strict CSP that forbids framing', async () => {
    const c = client();
    const { requestUri } = await c.par();
    const page = await new PageSession(base()).get(`/oauth/authorize?request_uri=${encodeURIComponent(requestUri)}&client_id=${encodeURIComponent(c.clientId)}`);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /script-src/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('access-control-allow-origin'), null);
    const cookie = page.headers.getSetCookie()[0];
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /Secure/);
    assert.match(cookie, /SameSite=Lax/);
  });
});

describe('the authorized-apps page', () => {
  it('lists the apps an account signed in on this device has let in, and revokes one', async () => {
    const c = client();
    const { access } = await c.signIn(HANDLE, PASSWORD);
    const pages = new PageSession(base());
    const signInPage = await pages.get('/oauth/account');
    assert.match(signInPage.text, /<label for="identifier">Handle or email<\/label>/);
    const csrf = csrfOf(signInPage.text);
    const wrong = await pages.post('/oauth/account/sign-in', { csrf, identifier: HANDLE, password: 'wrong-password' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Wrong handle, email or password/);
    assert.equal((await pages.post('/oauth/account/sign-in', { csrf, identifier: HANDLE, password: PASSWORD, remember: '1' })).status, 303);
    const list = await pages.get('/oauth/account');
    assert.match(list.text, /@proto-alice\.test/);
    assert.match(list.text, /Development app \(localhost\)/);
    assert.match(list.text, /aria-label="Revoke access for Development client"/);
    const did = server.server.ctx.accounts.byHandle(HANDLE)!.did;
    const revoked = await pages.post('/oauth/account/revoke', { csrf, did, client_id: c.clientId });
    assert.equal(revoked.status, 303);
    assert.match((await pages.get(revoked.location!)).text, /Access revoked/);
    assert.equal((await c.xrpc('GET', 'com.atproto.server.getSession', access)).status, 401, 'the app is signed out at once');
  });

  it('refuses to act on an account that is not signed in on this device', async () => {
    const pages = new PageSession(base());
    const csrf = csrfOf((await pages.get('/oauth/account')).text);
    const did = server.server.ctx.accounts.byHandle(HANDLE)!.did;
    const answer = await pages.post('/oauth/account/revoke', { csrf, did, client_id: 'http://localhost' });
    assert.equal(answer.status, 403);
  });

  it('refuses app passwords on the sign-in pages', async () => {
    const agent = new AtpAgent({ service: server.url });
    await agent.login({ identifier: HANDLE, password: PASSWORD });
    const { data } = await agent.com.atproto.server.createAppPassword({ name: 'pages' });
    const pages = new PageSession(base());
    const csrf = csrfOf((await pages.get('/oauth/account')).text);
    const answer = await pages.post('/oauth/account/sign-in', { csrf, identifier: HANDLE, password: data.password });
    assert.equal(answer.status, 401);
    assert.match(answer.text, /That is an app password/);
  });
});
