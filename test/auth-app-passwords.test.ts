import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AtpAgent } from '@atproto/api';
import { logIn, post, signUp, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';

let env: AccountsEnv;
let alice: SignedUp;
/** Signed in with a privileged app password: what an attacker holding one has. */
let privileged: AtpAgent;
/** Signed in with an ordinary app password. */
let plain: AtpAgent;

before(async () => {
  env = await startAccountsEnv();
  alice = await signUp(env, 'alice');
  const trusted = (await alice.agent.com.atproto.server.createAppPassword({ name: 'chat-client', privileged: true })).data.password;
  privileged = await logIn(env, alice.handle, trusted);
  const ordinary = (await alice.agent.com.atproto.server.createAppPassword({ name: 'reader' })).data.password;
  plain = await logIn(env, alice.handle, ordinary);
});
after(() => env.close());

const bearer = (agent: AtpAgent) => ({ authorization: `Bearer ${agent.session!.accessJwt}` });
const personalDetails: { $type: string; [key: string]: unknown } = { $type: 'app.bsky.actor.defs#personalDetailsPref', birthDate: '1990-01-01T00:00:00.000Z' };

/**
 * Every call that manages the account, its credentials, email or identity, each with a body it
 * would succeed with: refused, the method could only fail after doing its work.
 */
const MANAGEMENT_CALLS: Array<[nsid: string, body: unknown]> = [
  ['com.atproto.server.createAppPassword', { name: 'minted-by-attacker', privileged: true }],
  ['com.atproto.server.listAppPasswords', undefined],
  ['com.atproto.server.revokeAppPassword', { name: 'reader' }],
  ['com.atproto.server.requestEmailUpdate', undefined],
  ['com.atproto.server.updateEmail', { email: 'attacker@example.com' }],
  ['com.atproto.server.requestAccountDelete', undefined],
  ['com.atproto.server.deactivateAccount', {}],
  ['com.atproto.server.activateAccount', undefined],
  ['com.atproto.server.getAccountInviteCodes', undefined],
  ['com.atproto.identity.requestPlcOperationSignature', undefined],
  ['com.atproto.identity.signPlcOperation', { rotationKeys: ['did:key:zQ3shP2mWsZYWgvgM11GGdMoJimA4KYEZJR8V6XcKeqhkDEYr'] }],
  ['com.atproto.identity.submitPlcOperation', { operation: {} }],
  ['com.atproto.identity.updateHandle', { handle: 'attacker-chosen.test' }],
];

const QUERIES = new Set(['com.atproto.server.listAppPasswords', 'com.atproto.server.getAccountInviteCodes']);

async function call(agent: AtpAgent, nsid: string, body: unknown): Promise<Response> {
  if (QUERIES.has(nsid)) return fetch(`${env.url}/xrpc/${nsid}`, { headers: bearer(agent) });
  if (body === undefined) return fetch(`${env.url}/xrpc/${nsid}`, { method: 'POST', headers: bearer(agent) });
  return post(env, nsid, body, bearer(agent));
}

describe('privileged app passwords', () => {
  it('cannot manage the account, its credentials, email or identity: 403 on every such method', async () => {
    for (const [nsid, body] of MANAGEMENT_CALLS) {
      const res = await call(privileged, nsid, body);
      assert.equal(res.status, 403, nsid);
      assert.equal(((await res.json()) as { error: string }).error, 'Forbidden', nsid);
    }
    const account = env.ctx.accounts.byDid(alice.did)!;
    assert.deepEqual([account.email, account.handle, account.deactivatedAt], [alice.email, alice.handle, null]);
    assert.deepEqual(env.ctx.appPasswords.list(alice.did).map((p) => p.name).sort(), ['chat-client', 'reader']);
    await assert.rejects(env.smtp.waitForMessage(alice.email, { timeoutMs: 100 }));
  });

  it('cannot read or write personal details in the preferences, which a full session can', async () => {
    await alice.agent.app.bsky.actor.putPreferences({ preferences: [personalDetails] });
    for (const agent of [privileged, plain]) {
      const seen = (await agent.app.bsky.actor.getPreferences()).data.preferences;
      assert.equal(seen.find((p) => p.$type === personalDetails.$type), undefined);
      const err = await xrpcError(agent.app.bsky.actor.putPreferences({ preferences: [{ ...personalDetails, birthDate: '2015-01-01T00:00:00.000Z' } as typeof personalDetails] }));
      assert.deepEqual([err.status, err.error], [400, 'InvalidRequest']);
      // Writing the others leaves the personal details in place.
      await agent.app.bsky.actor.putPreferences({ preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: false }] });
    }
    const all = (await alice.agent.app.bsky.actor.getPreferences()).data.preferences;
    assert.deepEqual(all.find((p) => p.$type === personalDetails.$type), personalDetails);
  });

  it('get service tokens for chat (any chat.bsky method) but not for moving the account elsewhere', async () => {
    const aud = 'did:web:api.bsky.chat';
    for (const lxm of ['chat.bsky.convo.sendMessage', 'chat.bsky.convo.aMethodAddedLater']) {
      assert.ok((await privileged.com.atproto.server.getServiceAuth({ aud, lxm })).data.token, lxm);
      const err = await xrpcError(plain.com.atproto.server.getServiceAuth({ aud, lxm }));
      assert.match(err.message, /insufficient access/, lxm);
    }
    for (const agent of [privileged, plain]) {
      const err = await xrpcError(agent.com.atproto.server.getServiceAuth({ aud: 'did:web:elsewhere.example', lxm: 'com.atproto.server.createAccount' }));
      assert.deepEqual([err.status, err.error], [400, 'InvalidRequest']);
      assert.match(err.message, /insufficient access/);
    }
    assert.ok((await alice.agent.com.atproto.server.getServiceAuth({ aud: 'did:web:elsewhere.example', lxm: 'com.atproto.server.createAccount' })).data.token);
  });

  it('still do what any session does: write records, read the session', async () => {
    await privileged.post({ text: 'from the chat client', createdAt: new Date().toISOString() });
    assert.equal((await privileged.com.atproto.server.getSession()).data.did, alice.did);
  });
});

describe('a full session', () => {
  it('manages app passwords, email and invite codes itself', async () => {
    const names = (await alice.agent.com.atproto.server.listAppPasswords()).data.passwords.map((p) => p.name).sort();
    assert.deepEqual(names, ['chat-client', 'reader']);
    const res = await call(alice.agent, 'com.atproto.server.getAccountInviteCodes', undefined);
    assert.equal(res.status, 200);
    await alice.agent.com.atproto.server.updateEmail({ email: 'alice-new@example.com' });
    assert.equal(env.ctx.accounts.byDid(alice.did)!.email, 'alice-new@example.com');
  });
});

describe('app-password sessions', () => {
  it('stay revoked when an app password of the same name is created again, even a privileged one', async () => {
    const password = (await alice.agent.com.atproto.server.createAppPassword({ name: 'tablet' })).data.password;
    const tablet = await logIn(env, alice.handle, password);
    await alice.agent.com.atproto.server.revokeAppPassword({ name: 'tablet' });
    await alice.agent.com.atproto.server.createAppPassword({ name: 'tablet', privileged: true });

    const res = await fetch(`${env.url}/xrpc/com.atproto.server.getSession`, { headers: bearer(tablet) });
    assert.deepEqual([res.status, ((await res.json()) as { error: string }).error], [401, 'InvalidToken']);
    const chat = await fetch(`${env.url}/xrpc/com.atproto.server.getServiceAuth?aud=did:web:api.bsky.chat&lxm=chat.bsky.convo.listConvos`, { headers: bearer(tablet) });
    assert.equal(chat.status, 401);
    const refresh = await post(env, 'com.atproto.server.refreshSession', undefined, { authorization: `Bearer ${tablet.session!.refreshJwt}` });
    assert.equal(refresh.status, 401);
  });

  it('read a token from before app-password ids as expired, so the client refreshes', async () => {
    const { createHmac } = await import('node:crypto');
    const now = Math.floor(Date.now() / 1000);
    const claims = { scope: 'com.atproto.appPass', sub: alice.did, aud: env.ctx.config.service.did, iat: now, exp: now + 3600, jti: 'old', apn: 'reader' };
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${enc({ typ: 'at+jwt', alg: 'HS256' })}.${enc(claims)}`;
    const token = `${input}.${createHmac('sha256', env.ctx.secrets.jwtSecret).update(input).digest('base64url')}`;
    const res = await fetch(`${env.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual([res.status, ((await res.json()) as { error: string }).error], [401, 'ExpiredToken']);
  });
});

/**
 * Counts scrypt runs in this process (the server runs in it): the built-in is wrapped and the ESM
 * bindings of `node:crypto` re-synced, so the password module's own import sees the wrapper.
 */
async function countScrypt<T>(fn: () => Promise<T>): Promise<{ runs: number; result: T | Error }> {
  const crypto = (await import('node:crypto')).default;
  const { syncBuiltinESMExports } = await import('node:module');
  const original = crypto.scrypt;
  let runs = 0;
  crypto.scrypt = ((...args: Parameters<typeof original>) => {
    runs++;
    return (original as (...a: unknown[]) => void)(...args);
  }) as typeof original;
  syncBuiltinESMExports();
  try {
    const result = await fn().catch((err: Error) => err);
    return { runs, result };
  } finally {
    crypto.scrypt = original;
    syncBuiltinESMExports();
  }
}

describe('logins', () => {
  let bo: SignedUp;
  const appPasswords: string[] = [];
  before(async () => {
    bo = await signUp(env, 'bob');
    for (let i = 0; i < 12; i++) appPasswords.push((await bo.agent.com.atproto.server.createAppPassword({ name: `app-${i}` })).data.password);
  });

  const login = (identifier: string, password: string) => post(env, 'com.atproto.server.createSession', { identifier, password });

  it('verify one password per attempt, however many app passwords the account has', async () => {
    const attempts: Array<[string, string, number]> = [
      ['the last app password', appPasswords[11], 200],
      ['the first app password', appPasswords[0], 200],
      ['a wrong app-password-shaped password', 'abcd-efgh-ijkl-mnop', 401],
      ['the account password', bo.password, 200],
      ['a wrong password', 'not the password', 401],
    ];
    for (const [what, password, status] of attempts) {
      const { runs, result } = await countScrypt(() => login(bo.handle, password));
      assert.equal((result as Response).status, status, what);
      assert.equal(runs, 1, what);
    }
  });

  it('cost an unknown account the same one verification', async () => {
    for (const password of ['abcd-efgh-ijkl-mnop', 'not the password']) {
      const { runs, result } = await countScrypt(() => login('nobody-here.test', password));
      assert.equal((result as Response).status, 401);
      assert.equal(runs, 1);
    }
  });

  it('still accept app passwords stored before lookup digests, and give each its digest at first use', async () => {
    env.ctx.db.prepare('UPDATE app_password SET lookup_digest = NULL WHERE did = ?').run(bo.did);
    const first = await countScrypt(() => login(bo.handle, appPasswords[5]));
    assert.equal((first.result as Response).status, 200);
    assert.ok(first.runs > 1, 'the legacy rows are tried one by one');
    const row = env.ctx.db.prepare("SELECT lookup_digest FROM app_password WHERE did = ? AND name = 'app-5'").get(bo.did) as { lookup_digest: string | null };
    assert.ok(row.lookup_digest);
    const again = await countScrypt(() => login(bo.handle, appPasswords[5]));
    assert.deepEqual([(again.result as Response).status, again.runs], [200, 1]);
  });
});
