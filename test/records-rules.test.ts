import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let alice: AtpAgent;
let bob: AtpAgent;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  alice = new AtpAgent({ service: server.url });
  await alice.createAccount({ handle: 'rules-alice.test', email: 'ra@example.com', password: 'alice-password-1' });
  bob = new AtpAgent({ service: server.url });
  await bob.createAccount({ handle: 'rules-bob.test', email: 'rb@example.com', password: 'bob-password-1' });
});
after(async () => {
  await server.close();
  await plc.close();
});

async function raw(nsid: string, body: unknown, agent: AtpAgent = alice) {
  const res = await fetch(`${server.url}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.session!.accessJwt}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

const post = (text = 'hi') => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });

async function recordCount(did: string) {
  const list = await alice.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 100 });
  return list.data.records.length;
}

describe('record writes', () => {
  it('createRecord refuses a stale swapCommit with 409 InvalidSwap and writes nothing', async () => {
    const did = alice.session!.did;
    const before = await recordCount(did);
    const stale = (await alice.com.atproto.sync.getLatestCommit({ did })).data.cid;
    await alice.post({ text: 'moves the head', createdAt: new Date().toISOString() });
    const res = await raw('com.atproto.repo.createRecord', { repo: did, collection: 'app.bsky.feed.post', record: post(), swapCommit: stale });
    assert.equal(res.status, 409);
    assert.equal(res.body.error, 'InvalidSwap');
    assert.equal(await recordCount(did), before + 1);
  });

  it('putRecord and deleteRecord honour swapRecord', async () => {
    const did = alice.session!.did;
    const created = await alice.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post('v1') });
    const rkey = created.data.uri.split('/').pop()!;
    const updated = await alice.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey, record: post('v2'), swapRecord: created.data.cid });
    assert.notEqual(updated.data.cid, created.data.cid);
    const stale = await raw('com.atproto.repo.putRecord', { repo: did, collection: 'app.bsky.feed.post', rkey, record: post('v3'), swapRecord: created.data.cid });
    assert.equal(stale.status, 409);
    const staleDelete = await raw('com.atproto.repo.deleteRecord', { repo: did, collection: 'app.bsky.feed.post', rkey, swapRecord: created.data.cid });
    assert.equal(staleDelete.status, 409);
    const got = await alice.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey });
    assert.equal((got.data.value as { text: string }).text, 'v2');
    await alice.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey, swapRecord: updated.data.cid });
    const gone = await fetch(`${server.url}/xrpc/com.atproto.repo.getRecord?repo=${did}&collection=app.bsky.feed.post&rkey=${rkey}`);
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { error: string }).error, 'RecordNotFound');
  });

  it('creating a record whose key exists is a 409 conflict', async () => {
    const did = alice.session!.did;
    await alice.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile', displayName: 'A' } });
    const again = await raw('com.atproto.repo.createRecord', { repo: did, collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'InvalidSwap');
    const batch = await raw('com.atproto.repo.applyWrites', {
      repo: did,
      writes: [{ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.actor.profile', rkey: 'self', value: { $type: 'app.bsky.actor.profile' } }],
    });
    assert.equal(batch.status, 409);
    assert.equal(batch.body.error, 'InvalidSwap');
    const profile = await alice.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'self' });
    assert.equal((profile.data.value as { displayName?: string }).displayName, 'A', 'the first record stays');
  });

  it('refuses bad input with clear XRPC errors and writes nothing', async () => {
    const did = alice.session!.did;
    const before = (await alice.com.atproto.sync.getLatestCommit({ did })).data.rev;
    const cases: Array<[string, unknown, number, string]> = [
      ['wrong $type', { repo: did, collection: 'app.bsky.feed.post', record: { ...post(), $type: 'app.bsky.feed.like' } }, 400, 'InvalidRecord'],
      ['invalid post', { repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'x'.repeat(3001), createdAt: new Date().toISOString() } }, 400, 'InvalidRecord'],
      ['bad record key', { repo: did, collection: 'app.bsky.feed.post', rkey: 'not a key', record: post() }, 400, 'InvalidRequest'],
      ['non-TID key for a tid collection', { repo: did, collection: 'app.bsky.feed.post', rkey: 'self', record: post() }, 400, 'InvalidRecordKey'],
      ['literal key mismatch', { repo: did, collection: 'app.bsky.actor.profile', rkey: 'other', record: { $type: 'app.bsky.actor.profile' } }, 400, 'InvalidRecordKey'],
      ['oversized record', { repo: did, collection: 'com.example.big', record: { $type: 'com.example.big', blob: 'x'.repeat(600_000) } }, 413, 'RecordTooLarge'],
      ['float in a record (refused with the request body)', { repo: did, collection: 'com.example.thing', record: { $type: 'com.example.thing', n: 1.5 } }, 400, 'InvalidRequest'],
      ['unknown lexicon with validate true', { repo: did, collection: 'com.example.thing', validate: true, record: { $type: 'com.example.thing' } }, 400, 'InvalidRecord'],
      ['unknown repo', { repo: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', collection: 'app.bsky.feed.post', record: post() }, 404, 'RepoNotFound'],
    ];
    for (const [name, body, status, error] of cases) {
      const res = await raw('com.atproto.repo.createRecord', body);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, error, name);
      assert.equal(typeof res.body.message, 'string');
    }
    const otherRepo = await raw('com.atproto.repo.createRecord', { repo: bob.session!.did, collection: 'app.bsky.feed.post', record: post() });
    assert.equal(otherRepo.status, 403);
    const tooMany = await raw('com.atproto.repo.applyWrites', {
      repo: did,
      writes: Array.from({ length: 201 }, () => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: post() })),
    });
    assert.equal(tooMany.status, 400);
    const malformedSwap = await raw('com.atproto.repo.createRecord', { repo: did, collection: 'app.bsky.feed.post', record: post(), swapCommit: 'not-a-cid' });
    assert.equal(malformedSwap.status, 400);
    assert.equal((await alice.com.atproto.sync.getLatestCommit({ did })).data.rev, before, 'nothing was committed');
  });

  it('accepts unknown collections with validationStatus unknown, and skips validation when asked', async () => {
    const did = alice.session!.did;
    const unknown = await alice.com.atproto.repo.createRecord({ repo: did, collection: 'com.example.note', record: { $type: 'com.example.note', body: 'x' } });
    assert.equal(unknown.data.validationStatus, 'unknown');
    const valid = await alice.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post() });
    assert.equal(valid.data.validationStatus, 'valid');
    const skipped = await alice.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', validate: false, record: post() });
    assert.equal(skipped.data.validationStatus, undefined);
  });

  it('applyWrites is all or nothing', async () => {
    const did = alice.session!.did;
    const before = await recordCount(did);
    const res = await raw('com.atproto.repo.applyWrites', {
      repo: did,
      writes: [
        { $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: post('one') },
        { $type: 'com.atproto.repo.applyWrites#delete', collection: 'app.bsky.feed.post', rkey: '3jzfcijpj2z2a' },
      ],
    });
    assert.equal(res.status, 404);
    assert.equal(await recordCount(did), before);
    const ok = await alice.com.atproto.repo.applyWrites({
      repo: did,
      writes: Array.from({ length: 200 }, (_, i) => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: post(`batch ${i}`) })),
    });
    assert.equal(ok.data.results!.length, 200);
  });

  it('applyWrites applies its writes in order, several to one record among them', async () => {
    const did = alice.session!.did;
    const [a, b] = ['3kzzzzzzzzz2a', '3kzzzzzzzzz2b'];
    const w = (action: 'create' | 'update' | 'delete', rkey: string, text?: string) =>
      ({ $type: `com.atproto.repo.applyWrites#${action}`, collection: 'app.bsky.feed.post', rkey, ...(text === undefined ? {} : { value: post(text) }) }) as {
        $type: 'com.atproto.repo.applyWrites#create';
        collection: string;
        rkey: string;
        value: Record<string, unknown>;
      };
    // created, changed, deleted and created again in one commit: the last write holds
    const res = await alice.com.atproto.repo.applyWrites({ repo: did, writes: [w('create', a, 'first'), w('create', b, 'other'), w('update', a, 'second'), w('delete', a), w('create', a, 'third'), w('delete', b)] });
    // each write answers with its own record's CID, even when a later write of the commit replaced it
    const results = res.data.results! as Array<{ cid?: string }>;
    assert.equal(new Set(results.slice(0, 3).map((r) => r.cid)).size, 3);
    assert.equal(results[3].cid, undefined);
    const got = await alice.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: a });
    assert.equal((got.data.value as { text: string }).text, 'third');
    assert.equal(got.data.cid, results[4].cid);
    await assert.rejects(alice.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: b }), /RecordNotFound|Could not locate record/);
    // oldest first: these keys sort before every TID the other tests made
    const listed = await alice.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 5, reverse: true });
    assert.deepEqual(listed.data.records.filter((r) => r.uri.endsWith(a) || r.uri.endsWith(b)).map((r) => (r.value as { text: string }).text), ['third']);
  });

  it('pages listRecords with cursors, newest first, and reverse', async () => {
    const did = bob.session!.did;
    for (let i = 0; i < 7; i++) await bob.post({ text: `p${i}`, createdAt: new Date().toISOString() });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await bob.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 3, cursor });
      seen.push(...page.data.records.map((r) => (r.value as { text: string }).text));
      cursor = page.data.cursor;
    } while (cursor);
    assert.deepEqual(seen, ['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
    const reversed = await bob.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', reverse: true, limit: 100 });
    assert.deepEqual(reversed.data.records.map((r) => (r.value as { text: string }).text), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  });

  it('keeps preferences private to their account', async () => {
    await alice.app.bsky.actor.putPreferences({ preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }] });
    const mine = await alice.app.bsky.actor.getPreferences();
    assert.deepEqual(mine.data.preferences, [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }]);
    const theirs = await bob.app.bsky.actor.getPreferences();
    assert.deepEqual(theirs.data.preferences, []);
  });

  it('after all these writes the exported repo verifies and holds exactly what listRecords shows', async () => {
    const did = alice.session!.did;
    const car = new Uint8Array(await (await fetch(`${server.url}/xrpc/com.atproto.sync.getRepo?did=${did}`)).arrayBuffer());
    const { root, blocks } = await readCarWithRoot(car);
    const key = (await testIdResolver(plc.url).did.resolveAtprotoKey(did)) as string;
    const repo = await verifyRepo(blocks, root, did, key);
    const described = await alice.com.atproto.repo.describeRepo({ repo: did });
    let listed = 0;
    for (const collection of described.data.collections) {
      let cursor: string | undefined;
      do {
        const page = await alice.com.atproto.repo.listRecords({ repo: did, collection, limit: 100, cursor });
        listed += page.data.records.length;
        cursor = page.data.cursor;
      } while (cursor);
    }
    assert.equal(repo.creates.length, listed);
  });

  it('serialises concurrent writers on one repo', async () => {
    const did = bob.session!.did;
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => bob.post({ text: `c${i}`, createdAt: new Date().toISOString() })));
    assert.equal(new Set(results.map((r) => r.uri)).size, 30);
    const commits = await bob.com.atproto.sync.getLatestCommit({ did });
    assert.ok(commits.data.rev);
  });
});
