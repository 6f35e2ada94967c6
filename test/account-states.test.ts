// What an account may do in each state (accounts/account-policy.ts), through the official client
// over real HTTP: arriving by migration, deactivated by its owner, taken down. Every method × state
// × credential kind is in the generated auth matrix (test/auth-matrix.test.ts), refusals included;
// these are the flows around it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { eventsOf, logIn, post, signUp, signUpArriving, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';

let env: AccountsEnv;
before(async () => {
  env = await startAccountsEnv();
});
after(() => env.close());

const bearer = (agent: AtpAgent) => ({ authorization: `Bearer ${agent.session!.accessJwt}` });
const anyone = () => new AtpAgent({ service: env.url });
const newPost = () => ({ text: 'hello', createdAt: new Date().toISOString() });
const adultContent = { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true };

async function getRepo(did: string, headers: Record<string, string> = {}): Promise<{ status: number; error?: string }> {
  const res = await fetch(`${env.url}/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(did)}`, { headers });
  if (res.status === 200) {
    await res.arrayBuffer();
    return { status: 200 };
  }
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

async function refusal(call: Promise<unknown>): Promise<[number, string]> {
  const err = await xrpcError(call);
  return [err.status, err.error];
}

describe('an account arriving by migration', () => {
  let ann: SignedUp;
  before(async () => {
    ann = await signUpArriving(env, 'ann');
  });

  it('signs in and sees itself deactivated, and everyone else sees it deactivated too', async () => {
    const session = (await ann.agent.com.atproto.server.getSession()).data;
    assert.deepEqual([session.active, session.status], [false, 'deactivated']);
    assert.equal((await ann.agent.com.atproto.server.checkAccountStatus()).data.activated, false);
    const repo = (await anyone().com.atproto.sync.getRepoStatus({ did: ann.did })).data;
    assert.deepEqual([repo.active, repo.status], [false, 'deactivated']);
    const listed = (await anyone().com.atproto.sync.listRepos({ limit: 1000 })).data.repos.find((r) => r.did === ann.did);
    assert.deepEqual([listed?.active, listed?.status], [false, 'deactivated']);
    const created = eventsOf(env.ctx, ann.did).filter((e) => e.type === 'account');
    assert.deepEqual(created.map((e) => [e.body.active, e.body.status]), [[false, 'deactivated']]);
  });

  it('keeps its repo from the public, and lets itself export it', async () => {
    assert.deepEqual(await getRepo(ann.did), { status: 400, error: 'RepoDeactivated' });
    assert.deepEqual(await refusal(anyone().com.atproto.repo.describeRepo({ repo: ann.did })), [400, 'RepoDeactivated']);
    assert.deepEqual(await getRepo(ann.did, bearer(ann.agent)), { status: 200 });
  });

  it('fills itself in (blobs, preferences, missing blobs, identity, service tokens) but writes no records', async () => {
    await ann.agent.uploadBlob(pngOfSize(512, 1), { encoding: 'image/png' });
    await ann.agent.app.bsky.actor.putPreferences({ preferences: [adultContent] });
    assert.deepEqual((await ann.agent.app.bsky.actor.getPreferences()).data.preferences, [adultContent]);
    assert.deepEqual((await ann.agent.com.atproto.repo.listMissingBlobs()).data.blobs, []);
    assert.ok((await ann.agent.com.atproto.identity.getRecommendedDidCredentials()).data.verificationMethods);
    assert.ok((await ann.agent.com.atproto.server.getServiceAuth({ aud: 'did:web:elsewhere.example', lxm: 'com.atproto.repo.uploadBlob' })).data.token);
    assert.deepEqual(await refusal(ann.agent.post(newPost())), [401, 'AccountDeactivated']);
  });

  it('activates: active everywhere, announced, and may write', async () => {
    await ann.agent.com.atproto.server.activateAccount();
    assert.equal(env.ctx.accounts.stateByDid(ann.did), 'active');
    assert.equal(env.ctx.accounts.byDid(ann.did)!.arrivingAt, null);
    const session = (await ann.agent.com.atproto.server.getSession()).data;
    assert.deepEqual([session.active, session.status], [true, undefined]);
    await ann.agent.post(newPost());
    assert.deepEqual(await getRepo(ann.did), { status: 200 });
  });
});

describe('an account its owner deactivated', () => {
  let dan: SignedUp;
  before(async () => {
    dan = await signUp(env, 'dan');
    await dan.agent.uploadBlob(pngOfSize(256, 2), { encoding: 'image/png' });
    await dan.agent.com.atproto.server.deactivateAccount({});
  });

  it('can still sign in, read its state, export its repo and blobs to itself, and prepare a move', async () => {
    const again = await logIn(env, dan.handle, dan.password);
    assert.equal((await again.com.atproto.server.getSession()).data.status, 'deactivated');
    assert.deepEqual(await getRepo(dan.did, bearer(again)), { status: 200 });
    assert.deepEqual(await getRepo(dan.did), { status: 400, error: 'RepoDeactivated' });
    const blobs = (await again.com.atproto.sync.listBlobs({ did: dan.did })).data.cids;
    assert.equal(blobs.length, 0); // uploaded but never referenced: nothing to export
    assert.ok((await again.com.atproto.server.getServiceAuth({ aud: 'did:web:elsewhere.example', lxm: 'com.atproto.server.createAccount' })).data.token);
    await again.com.atproto.identity.requestPlcOperationSignature();
    assert.ok((await again.com.atproto.server.createAppPassword({ name: 'while-paused' })).data.password);
  });

  it('activates again', async () => {
    await dan.agent.com.atproto.server.activateAccount();
    await dan.agent.uploadBlob(pngOfSize(512, 4), { encoding: 'image/png' });
    await dan.agent.post(newPost());
  });
});

describe('a taken-down account', () => {
  let tia: SignedUp;
  let appPassword: string;
  before(async () => {
    tia = await signUp(env, 'tia');
    appPassword = (await tia.agent.com.atproto.server.createAppPassword({ name: 'phone' })).data.password;
    await tia.agent.app.bsky.actor.putPreferences({ preferences: [adultContent] });
    await anyone().com.atproto.admin.updateSubjectStatus(
      { subject: { $type: 'com.atproto.admin.defs#repoRef', did: tia.did }, takedown: { applied: true } },
      { headers: env.adminHeaders },
    );
  });

  const login = (password: string, allowTakendown?: boolean) =>
    post(env, 'com.atproto.server.createSession', { identifier: tia.handle, password, ...(allowTakendown ? { allowTakendown } : {}) });

  it('signs in only to leave: with allowTakendown and the account password, never with an app password', async () => {
    for (const res of [await login(tia.password), await login(appPassword, true), await login(appPassword)]) {
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'AccountTakedown');
    }
    const res = await login(tia.password, true);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'takendown');
  });

  it('in that session exports its repo and preferences, gets a createAccount token and signs PLC operations; nothing else', async () => {
    const { accessJwt } = (await (await login(tia.password, true)).json()) as { accessJwt: string };
    // Not resumeSession: that calls getSession, which such a session may not.
    const leaving = new AtpAgent({ service: env.url });
    leaving.setHeader('authorization', `Bearer ${accessJwt}`);
    assert.deepEqual(await getRepo(tia.did, { authorization: `Bearer ${accessJwt}` }), { status: 200 });
    assert.deepEqual(await getRepo(tia.did), { status: 400, error: 'RepoTakendown' });
    assert.deepEqual((await leaving.app.bsky.actor.getPreferences()).data.preferences, [adultContent]);
    assert.ok((await leaving.com.atproto.server.getServiceAuth({ aud: 'did:web:elsewhere.example', lxm: 'com.atproto.server.createAccount' })).data.token);
    await leaving.com.atproto.identity.requestPlcOperationSignature();

    // Every other method refuses it (the auth matrix); a service token for anything but moving does too.
    const elsewhere = leaving.com.atproto.server.getServiceAuth({ aud: 'did:web:elsewhere.example', lxm: 'com.atproto.repo.uploadBlob' });
    assert.deepEqual(await refusal(elsewhere), [401, 'AccountTakedown']);
  });
});
