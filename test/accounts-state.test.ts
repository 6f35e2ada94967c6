import { testIdResolver } from './helpers/plc.ts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { Firehose, MemoryRunner, type Event } from '@atproto/sync';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { readCarWithRoot } from '../src/ipld/car.ts';
import { fromBytes, type Bytes } from '../src/ipld/cbor.ts';
import { cidToString } from '../src/ipld/cid.ts';
import { eventsOf, logIn, post, signUp, startAccountsEnv, xrpcError, type AccountsEnv } from './helpers/accounts-env.ts';

let env: AccountsEnv;
before(async () => {
  env = await startAccountsEnv();
});
after(() => env.close());

const count = (sql: string, did: string) => (env.ctx.db.prepare(sql).get(did) as { n: number }).n;

describe('checkAccountStatus', () => {
  it('answers from the database: commit, blocks, records, preferences, and a DID document that points here', async () => {
    const alice = await signUp(env, 'alice');
    await alice.agent.post({ text: 'one', createdAt: new Date().toISOString() });
    await alice.agent.post({ text: 'two', createdAt: new Date().toISOString() });
    await alice.agent.app.bsky.actor.putPreferences({ preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: false }] });

    const status = (await alice.agent.com.atproto.server.checkAccountStatus()).data;
    const root = env.ctx.repo.root(alice.did);
    assert.equal(status.activated, true);
    assert.equal(status.validDid, true);
    assert.equal(status.repoCommit, root.cid);
    assert.equal(status.repoRev, root.rev);
    assert.equal(status.indexedRecords, 2);
    // the commit and nodes in the block table, the records' blocks with the records
    assert.equal(status.repoBlocks, count('SELECT count(*) AS n FROM repo_block WHERE did = ?', alice.did) + count('SELECT count(DISTINCT cid) AS n FROM record WHERE did = ?', alice.did));
    assert.ok(status.repoBlocks >= 4, 'a commit, an MST node and two records at least');
    assert.equal(status.privateStateValues, 1);
    assert.equal(status.expectedBlobs, 0);
    assert.equal(status.importedBlobs, 0);
  });

  it('says validDid false once the DID document names another PDS, and activation is then refused', async () => {
    const bob = await signUp(env, 'bob');
    await env.ctx.plc.updatePds(bob.did, env.ctx.rotationKey, 'https://elsewhere.example.com');
    assert.equal((await bob.agent.com.atproto.server.checkAccountStatus()).data.validDid, false);
    await bob.agent.com.atproto.server.deactivateAccount({});
    const refused = await xrpcError(bob.agent.com.atproto.server.activateAccount());
    assert.deepEqual([refused.status, refused.error], [400, 'InvalidRequest']);
    assert.match(refused.message, /service endpoint/);
    assert.equal((await bob.agent.com.atproto.server.checkAccountStatus()).data.activated, false);
  });
});

describe('deactivation and activation', () => {
  it('deactivates with a deleteAfter hint, hides the repo, and announces it on the firehose', async () => {
    const carol = await signUp(env, 'carol');
    const before = env.ctx.sequencer.latestSeq();
    const deleteAfter = new Date(Date.now() + 30 * 86_400_000).toISOString();
    await carol.agent.com.atproto.server.deactivateAccount({ deleteAfter });

    const account = env.ctx.accounts.byDid(carol.did)!;
    assert.ok(account.deactivatedAt);
    assert.equal(account.deleteAfter, deleteAfter);
    const events = eventsOf(env.ctx, carol.did, before);
    assert.deepEqual(
      events.map((e) => [e.type, e.body.active, e.body.status]),
      [['account', false, 'deactivated']],
    );
    assert.deepEqual(Object.keys(events[0].body).sort(), ['active', 'did', 'seq', 'status', 'time']);

    const repoStatus = (await carol.agent.com.atproto.sync.getRepoStatus({ did: carol.did })).data;
    assert.deepEqual([repoStatus.active, repoStatus.status], [false, 'deactivated']);
    const session = (await carol.agent.com.atproto.server.getSession()).data;
    assert.deepEqual([session.active, session.status], [false, 'deactivated']);
    assert.equal((await carol.agent.com.atproto.server.checkAccountStatus()).data.activated, false);
  });

  it('activates again with #account, #identity and a #sync of the current commit', async () => {
    const dave = await signUp(env, 'dave');
    await dave.agent.post({ text: 'before the pause', createdAt: new Date().toISOString() });
    await dave.agent.com.atproto.server.deactivateAccount({});
    const before = env.ctx.sequencer.latestSeq();
    await dave.agent.com.atproto.server.activateAccount();

    const events = eventsOf(env.ctx, dave.did, before);
    assert.deepEqual(events.map((e) => e.type), ['account', 'identity', 'sync']);
    assert.deepEqual([events[0].body.active, events[0].body.status], [true, undefined]);
    assert.equal(events[1].body.handle, dave.handle);
    const root = env.ctx.repo.root(dave.did);
    const sync = events[2].body as { did: string; rev: string; blocks: Bytes };
    assert.equal(sync.did, dave.did);
    assert.equal(sync.rev, root.rev);
    const car = await readCarWithRoot(fromBytes(sync.blocks));
    assert.equal(cidToString(car.root), root.cid);
    assert.deepEqual([...car.blocks.keys()], [root.cid]);

    const repoStatus = (await dave.agent.com.atproto.sync.getRepoStatus({ did: dave.did })).data;
    assert.equal(repoStatus.active, true);
    assert.equal(env.ctx.accounts.byDid(dave.did)!.deleteAfter, null);
  });

  it('refuses an app-password session with 403, and an anonymous caller with 401', async () => {
    const erin = await signUp(env, 'erin');
    const appPassword = (await erin.agent.com.atproto.server.createAppPassword({ name: 'app' })).data.password;
    const app = await logIn(env, erin.handle, appPassword);
    assert.equal((await xrpcError(app.com.atproto.server.deactivateAccount({}))).status, 403);
    assert.equal((await xrpcError(app.com.atproto.server.activateAccount())).status, 403);
    assert.equal((await post(env, 'com.atproto.server.deactivateAccount', {})).status, 401);
    // An app-password session may still read its own status.
    assert.equal((await app.com.atproto.server.checkAccountStatus()).data.activated, true);
  });
});

describe('account deletion', () => {
  it('deletes everything of the account with its password and the mailed code, and says so on the firehose', async () => {
    const fay = await signUp(env, 'fay');
    await fay.agent.post({ text: 'soon gone', createdAt: new Date().toISOString() });
    await fay.agent.com.atproto.server.createAppPassword({ name: 'app' });
    await env.ctx.db.prepare("INSERT INTO account_pref (did, name, value_json) VALUES (?, 'test', '{}') ON CONFLICT DO NOTHING").run(fay.did);
    await post(env, 'com.atproto.server.reserveSigningKey', { did: fay.did });
    await fay.agent.com.atproto.server.requestAccountDelete();
    const mail = await env.smtp.waitForMessage(fay.email);
    assert.equal(mail.subject, 'Account Deletion Requested');
    const token = /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec(mail.text)![0];
    const anon = new AtpAgent({ service: env.url });

    const wrongPassword = await xrpcError(anon.com.atproto.server.deleteAccount({ did: fay.did, password: 'wrong-password', token }));
    assert.equal(wrongPassword.status, 401);
    const wrongToken = await xrpcError(anon.com.atproto.server.deleteAccount({ did: fay.did, password: fay.password, token: 'AAAAA-AAAAA' }));
    assert.deepEqual([wrongToken.status, wrongToken.error], [400, 'InvalidToken']);
    const unknown = await xrpcError(anon.com.atproto.server.deleteAccount({ did: 'did:plc:zzzzzzzzzzzzzzzzzzzzzzzz', password: fay.password, token }));
    assert.equal(unknown.status, 401);

    const before = env.ctx.sequencer.latestSeq();
    await anon.com.atproto.server.deleteAccount({ did: fay.did, password: fay.password, token });

    for (const table of ['account', 'app_password', 'refresh_token', 'email_token', 'repo_block', 'record', 'repo_root', 'account_pref', 'reserved_signing_key']) {
      assert.equal(count(`SELECT count(*) AS n FROM ${table} WHERE did = ?`, fay.did), 0, `${table} still has rows`);
    }
    const events = eventsOf(env.ctx, fay.did);
    assert.equal(events.length, 1, 'only the deletion event is left of the account');
    assert.ok(events[0].seq > before);
    assert.deepEqual([events[0].type, events[0].body.active, events[0].body.status], ['account', false, 'deleted']);

    assert.equal((await xrpcError(logIn(env, fay.handle, fay.password))).status, 401);
    assert.equal((await xrpcError(fay.agent.com.atproto.server.getSession())).status, 401);
    const again = await xrpcError(anon.com.atproto.server.deleteAccount({ did: fay.did, password: fay.password, token }));
    assert.equal(again.status, 401);
  });

  it('counts the blobs its records reference, and deletes their rows and files with the account', async () => {
    const pia = await signUp(env, 'pia');
    const uploaded = await pia.agent.uploadBlob(pngOfSize(2048, 7), { encoding: 'image/png' });
    await pia.agent.post({
      text: 'a picture',
      createdAt: new Date().toISOString(),
      embed: { $type: 'app.bsky.embed.images', images: [{ image: uploaded.data.blob, alt: '' }] },
    });
    const status = (await pia.agent.com.atproto.server.checkAccountStatus()).data;
    assert.deepEqual([status.expectedBlobs, status.importedBlobs], [1, 1]);
    const blobDir = join(env.ctx.config.storage.blobDir, encodeURIComponent(pia.did));
    assert.ok(readdirSync(blobDir).length > 0);

    await env.adminAgent.com.atproto.admin.deleteAccount({ did: pia.did }, { headers: env.adminHeaders });
    for (const table of ['blob', 'record_blob']) assert.equal(count(`SELECT count(*) AS n FROM ${table} WHERE did = ?`, pia.did), 0, table);
    assert.equal(existsSync(blobDir), false);
  });

  it('refuses an expired deletion code and keeps the account', async () => {
    const gus = await signUp(env, 'gus');
    await gus.agent.com.atproto.server.requestAccountDelete();
    const token = await env.smtp.waitForToken(gus.email);
    env.ctx.db.prepare("UPDATE email_token SET requested_at = '2000-01-01T00:00:00.000Z' WHERE did = ?").run(gus.did);
    const expired = await xrpcError(
      new AtpAgent({ service: env.url }).com.atproto.server.deleteAccount({ did: gus.did, password: gus.password, token }),
    );
    assert.deepEqual([expired.status, expired.error], [400, 'ExpiredToken']);
    assert.ok(env.ctx.accounts.byDid(gus.did));
  });

  it('does not mail a deletion code to an app-password session', async () => {
    const hal = await signUp(env, 'hal');
    const appPassword = (await hal.agent.com.atproto.server.createAppPassword({ name: 'app' })).data.password;
    const app = await logIn(env, hal.handle, appPassword);
    assert.equal((await xrpcError(app.com.atproto.server.requestAccountDelete())).status, 403);
  });
});

describe('reserveSigningKey', () => {
  it('hands out a new secp256k1 did:key, and the same one again for the same DID', async () => {
    const anon = new AtpAgent({ service: env.url });
    const a = (await anon.com.atproto.server.reserveSigningKey({})).data.signingKey;
    const b = (await anon.com.atproto.server.reserveSigningKey({})).data.signingKey;
    assert.match(a, /^did:key:zQ3s[1-9A-HJ-NP-Za-km-z]+$/);
    assert.notEqual(a, b);
    const did = 'did:plc:migratingaccountaaaaaaaa';
    const first = (await anon.com.atproto.server.reserveSigningKey({ did })).data.signingKey;
    const second = (await anon.com.atproto.server.reserveSigningKey({ did })).data.signingKey;
    assert.equal(first, second);
    const row = env.ctx.db.prepare('SELECT private_key, did FROM reserved_signing_key WHERE public_key_did = ?').get(first) as { private_key: string; did: string };
    assert.equal(row.did, did);
    assert.match(row.private_key, /^ES256K:[0-9a-f]{64}$/);
  });
});

describe('the lifecycle as the official firehose client sees it', () => {
  it('reads deactivation, reactivation (with a verified #sync) and deletion', async () => {
    const lee = await signUp(env, 'lee');
    await lee.agent.post({ text: 'hello', createdAt: new Date().toISOString() });
    const events: Event[] = [];
    const errors: Error[] = [];
    const firehose = new Firehose({
      idResolver: testIdResolver(env.plc.url),
      service: env.url.replace('http', 'ws'),
      runner: new MemoryRunner({ startCursor: env.ctx.sequencer.latestSeq() }),
      handleEvent: (evt) => void events.push(evt),
      onError: (err) => void errors.push(err),
    });
    firehose.start();
    try {
      await lee.agent.com.atproto.server.deactivateAccount({});
      await lee.agent.com.atproto.server.activateAccount();
      await lee.agent.com.atproto.server.requestAccountDelete();
      const token = await env.smtp.waitForToken(lee.email);
      await new AtpAgent({ service: env.url }).com.atproto.server.deleteAccount({ did: lee.did, password: lee.password, token });
      const deadline = Date.now() + 10_000;
      while (!events.some((e) => e.event === 'account' && e.status === 'deleted') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    } finally {
      await firehose.destroy();
    }
    assert.deepEqual(errors, []);
    const seen = events
      .filter((e) => e.did === lee.did)
      .map((e) => (e.event === 'account' ? `account:${e.active}:${e.status ?? ''}` : e.event));
    assert.deepEqual(seen, ['account:false:deactivated', 'account:true:', 'identity', 'sync', 'account:false:deleted']);
  });
});
