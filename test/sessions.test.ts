// Sessions over HTTP beyond what the generated auth matrix (test/auth-matrix.test.ts) walks: forged
// and malformed tokens, another account's token, app-password revocation, logout, refresh after
// expiry, and a wrong password that does not say which part was wrong.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let alice: AtpAgent;
let bob: AtpAgent;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  alice = new AtpAgent({ service: server.url });
  await alice.createAccount({ handle: 'sessions-alice.test', email: 'ma@example.com', password: 'alice-password-1' });
  bob = new AtpAgent({ service: server.url });
  await bob.createAccount({ handle: 'sessions-bob.test', email: 'mb@example.com', password: 'bob-password-1' });
});
after(async () => {
  await server.close();
  await plc.close();
});

async function call(method: 'GET' | 'POST', nsid: string, authorization?: string, body?: unknown) {
  const res = await fetch(`${server.url}/xrpc/${nsid}`, {
    method,
    headers: { ...(authorization ? { authorization } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as { error?: string; message?: string } };
}

function forge(claims: Record<string, unknown>, typ = 'at+jwt', secret = 'test-jwt-secret-0123456789abcdef'): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc({ typ, alg: 'HS256' })}.${enc(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

describe('sessions over HTTP', () => {
  const getSession = (auth?: string) => call('GET', 'com.atproto.server.getSession', auth);

  it('refuses a malformed token, the admin password as a session, and a token signed with another key with 401 InvalidToken', async () => {
    for (const auth of ['Bearer a.b.c', 'Basic abc', `Bearer ${server.adminPassword}`, `Bearer ${forge({ scope: 'com.atproto.access', sub: alice.session!.did, aud: 'did:web:localhost', iat: 0, exp: 9e9 }, 'at+jwt', 'another-secret-entirely')}`]) {
      const res = await getSession(auth);
      assert.equal(res.status, 401, auth);
      assert.equal(res.body.error, 'InvalidToken', auth);
    }
  });

  it("refuses another account's token on a repo write with 403", async () => {
    const res = await call('POST', 'com.atproto.repo.createRecord', `Bearer ${bob.session!.accessJwt}`, {
      repo: alice.session!.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'not mine', createdAt: new Date().toISOString() },
    });
    assert.equal(res.status, 403);
  });

  it('lets app passwords log in and post, lists them to the full session, and revoking one ends its sessions', async () => {
    const { data } = await alice.com.atproto.server.createAppPassword({ name: 'phone' });
    const phone = new AtpAgent({ service: server.url });
    await phone.login({ identifier: 'sessions-alice.test', password: data.password });
    await phone.post({ text: 'from the phone', createdAt: new Date().toISOString() });

    const { data: trusted } = await alice.com.atproto.server.createAppPassword({ name: 'laptop', privileged: true });
    const laptop = new AtpAgent({ service: server.url });
    await laptop.login({ identifier: alice.session!.did, password: trusted.password });
    const listed = await alice.com.atproto.server.listAppPasswords();
    assert.deepEqual(listed.data.passwords.map((p) => p.name).sort(), ['laptop', 'phone']);

    await alice.com.atproto.server.revokeAppPassword({ name: 'phone' });
    const afterRevoke = await getSession(`Bearer ${phone.session!.accessJwt}`);
    assert.equal(afterRevoke.status, 401);
    assert.equal(afterRevoke.body.error, 'InvalidToken');
    const refresh = await call('POST', 'com.atproto.server.refreshSession', `Bearer ${phone.session!.refreshJwt}`);
    assert.equal(refresh.status, 401);
    const relogin = await call('POST', 'com.atproto.server.createSession', undefined, { identifier: 'sessions-alice.test', password: data.password });
    assert.equal(relogin.status, 401);
  });

  it('resumes a saved session, and logging out revokes the refresh token', async () => {
    const saved = alice.session!;
    const resumed = new AtpAgent({ service: server.url });
    await resumed.resumeSession(saved);
    assert.equal(resumed.session!.did, saved.did);
    const fresh = new AtpAgent({ service: server.url });
    await fresh.login({ identifier: 'ma@example.com', password: 'alice-password-1' });
    const refreshJwt = fresh.session!.refreshJwt;
    await fresh.logout();
    const res = await call('POST', 'com.atproto.server.refreshSession', `Bearer ${refreshJwt}`);
    assert.equal(res.status, 401);
  });

  it('refreshes after the access token expires, as the official client does', async () => {
    const agent = new AtpAgent({ service: server.url });
    await agent.login({ identifier: 'sessions-bob.test', password: 'bob-password-1' });
    const now = Math.floor(Date.now() / 1000);
    const expired = forge({ scope: 'com.atproto.access', sub: agent.session!.did, aud: 'did:web:localhost', iat: now - 7300, exp: now - 100, jti: 'y' });
    await agent.resumeSession({ ...agent.session!, accessJwt: expired });
    const res = await agent.com.atproto.server.getSession();
    assert.equal(res.data.did, agent.session!.did);
    assert.notEqual(agent.session!.accessJwt, expired);
  });

  it('refuses a wrong password with 401 and does not say which part was wrong', async () => {
    const wrong = await call('POST', 'com.atproto.server.createSession', undefined, { identifier: 'sessions-bob.test', password: 'nope-nope' });
    const unknown = await call('POST', 'com.atproto.server.createSession', undefined, { identifier: 'nobody.test', password: 'nope-nope' });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.message, unknown.body.message);
  });
});
