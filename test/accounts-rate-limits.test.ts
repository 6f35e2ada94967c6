import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post, signUp, startAccountsEnv, type AccountsEnv } from './helpers/accounts-env.ts';
import { startTestServer } from './helpers/server.ts';
import { csrfOf, PageSession } from './helpers/oauth-manual.ts';

let env: AccountsEnv;
before(async () => {
  env = await startAccountsEnv({ PDS_RATE_LIMITS_ENABLED: 'true' });
});
after(() => env.close());

function assertLimited(res: Response, limit: number, windowSeconds: number): void {
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('ratelimit-limit'), String(limit));
  assert.equal(res.headers.get('ratelimit-remaining'), '0');
  assert.equal(res.headers.get('ratelimit-policy'), `${limit};w=${windowSeconds}`);
  const reset = Number(res.headers.get('ratelimit-reset'));
  assert.ok(reset > Date.now() / 1000 && reset <= Date.now() / 1000 + windowSeconds + 1);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= windowSeconds);
}

describe('rate limits of the account flows', () => {
  it('limits password reset mail to 5 an hour per address, then 15 an hour per IP', async () => {
    const alice = await signUp(env, 'alice');
    for (let i = 0; i < 5; i++) {
      const res = await post(env, 'com.atproto.server.requestPasswordReset', { email: alice.email });
      assert.equal(res.status, 200);
      assert.ok(res.headers.get('ratelimit-remaining'));
    }
    const refused = await post(env, 'com.atproto.server.requestPasswordReset', { email: ` ${alice.email.toUpperCase()}` });
    assertLimited(refused, 5, 3600);
    assert.equal(((await refused.json()) as { error: string }).error, 'RateLimitExceeded');
    for (let i = 0; i < 5; i++) await env.smtp.waitForMessage(alice.email);
    await assert.rejects(env.smtp.waitForMessage(alice.email, { timeoutMs: 200 }), 'the refused request mailed nothing');

    // Six calls so far from this IP; nine more addresses fit under the IP's 15 an hour.
    for (let i = 0; i < 9; i++) {
      assert.equal((await post(env, 'com.atproto.server.requestPasswordReset', { email: `nobody${i}@example.com` })).status, 200);
    }
    assertLimited(await post(env, 'com.atproto.server.requestPasswordReset', { email: 'someone-else@example.com' }), 15, 3600);
  });

  it('limits confirmation mail to 5 an hour per account', async () => {
    const bob = await signUp(env, 'bob');
    const carol = await signUp(env, 'carol');
    const as = (agent: typeof bob.agent) => ({ authorization: `Bearer ${agent.session!.accessJwt}` });
    for (let i = 0; i < 5; i++) assert.equal((await post(env, 'com.atproto.server.requestEmailConfirmation', undefined, as(bob.agent))).status, 200);
    assertLimited(await post(env, 'com.atproto.server.requestEmailConfirmation', undefined, as(bob.agent)), 5, 3600);
    // Another account from the same address still gets its mail.
    assert.equal((await post(env, 'com.atproto.server.requestEmailConfirmation', undefined, as(carol.agent))).status, 200);
  });

  it('limits code checks to 50 per 5 minutes per IP', async () => {
    for (let i = 0; i < 50; i++) {
      const res = await post(env, 'com.atproto.server.resetPassword', { token: 'AAAAA-AAAAA', password: 'some-new-password' });
      assert.equal(res.status, 400);
    }
    assertLimited(await post(env, 'com.atproto.server.resetPassword', { token: 'AAAAA-AAAAA', password: 'some-new-password' }), 50, 300);
  });

  it('limits password checks of deleteAccount per DID like logins', async () => {
    const did = 'did:plc:zzzzzzzzzzzzzzzzzzzzzzzz';
    const body = { did, password: 'guess', token: 'AAAAA-AAAAA' };
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await post(env, 'com.atproto.server.deleteAccount', body)).status);
    assert.deepEqual(statuses.slice(0, 30), Array(30).fill(401));
    assert.equal(statuses[30], 429);
  });

  it('counts sign-ins on the OAuth pages and createSession in the same buckets', async () => {
    const limited = await signUp(env, 'pagelimited');
    for (let i = 0; i < 30; i++) {
      assert.equal((await post(env, 'com.atproto.server.createSession', { identifier: limited.handle, password: 'wrong-guess' })).status, 401);
    }
    const pages = new PageSession(env.ctx.oauth.issuer);
    const csrf = csrfOf((await pages.get('/oauth/account')).text);
    const page = await pages.post('/oauth/account/sign-in', { csrf, identifier: limited.handle.toUpperCase(), password: limited.password });
    assert.equal(page.status, 429, 'the right password is not even tried once the identifier is limited');
    assert.match(page.text, /Too many sign-in attempts/);
    assertLimited(await post(env, 'com.atproto.server.createSession', { identifier: limited.handle, password: limited.password }), 30, 300);
  });

  it('counts logins per account, however the identifier is spelled', async () => {
    const dana = await signUp(env, 'dana');
    const spellings = [dana.handle, `  ${dana.handle.toUpperCase()} `, `@${dana.handle}`, dana.email.toUpperCase(), ` ${dana.did}`, dana.did];
    for (let i = 0; i < 30; i++) {
      const res = await post(env, 'com.atproto.server.createSession', { identifier: spellings[i % spellings.length], password: 'a wrong guess' });
      assert.equal(res.status, 401, `attempt ${i + 1}`);
    }
    for (const identifier of spellings) {
      assertLimited(await post(env, 'com.atproto.server.createSession', { identifier, password: dana.password }), 30, 300);
    }
  });
});

describe('clients behind IPv6', () => {
  it('count by their /64: another address in it is the same client, another /64 is not', async () => {
    // Squall behind a proxy on loopback, which says who the client is.
    const server = await startTestServer({ PDS_RATE_LIMITS_ENABLED: 'true', PDS_TRUSTED_PROXIES: '127.0.0.1' });
    try {
      const reset = (client: string) =>
        fetch(`${server.url}/xrpc/com.atproto.server.requestPasswordReset`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
          body: JSON.stringify({ email: `nobody-${Math.random()}@example.com` }),
        });
      for (let i = 1; i <= 15; i++) assert.equal((await reset(`2001:db8:1:2::${i.toString(16)}`)).status, 200);
      assertLimited(await reset('2001:db8:1:2:ffff:ffff:ffff:fffe'), 15, 3600);
      assertLimited(await reset('2001:0db8:0001:0002:0000:0000:0000:0abc'), 15, 3600);
      assert.equal((await reset('2001:db8:1:3::1')).status, 200);
    } finally {
      await server.close();
    }
  });
});
