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
