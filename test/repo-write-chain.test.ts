import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { IdResolver } from '@atproto/identity';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { Firehose, MemoryRunner, type Event } from '@atproto/sync';
import { decodeCbor } from '../src/ipld/cbor.ts';
import { cidToString, parseCid } from '../src/ipld/cid.ts';
import { signCommit } from '../src/repo/commit.ts';
import { RecordIndex } from '../src/repo/record-index.ts';
import { RepoLocks } from '../src/repo/repo-lock.ts';
import { RepoService } from '../src/repo/repo-service.ts';
import { nextTidAfter } from '../src/repo/tid.ts';
import { prepareRecord } from '../src/repo/prepare-write.ts';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { newAccountAgent, until } from './helpers/agents.ts';
import { parsePrometheusText, valueOf } from './helpers/prometheus.ts';
import { basicAuth, startTestServer, type TestServer } from './helpers/server.ts';

// Concurrent writes to one repo: a create may start from a commit still queued for the group
// commit (src/repo/pending-commits.ts). These tests check the chain the writes make, with the
// official libraries as verifiers, and what happens when a queued commit fails under its successors.

let plc: TestPlc;
let server: TestServer;
let idResolver: IdResolver;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  idResolver = testIdResolver(plc.url);
});
after(async () => {
  await server.close();
  await plc.close();
});

const newAgent = (name: string): Promise<AtpAgent> => newAccountAgent(server.url, name);

interface CommitEvent {
  rev: string;
  since: string | null;
  commit: { $link: string };
  prevData?: { $link: string };
}

/** The repo's `#commit` events as the sequencer stored them, in order. */
function commitEvents(did: string): CommitEvent[] {
  const rows = server.server.ctx.db
    .prepare("SELECT event FROM repo_seq WHERE did = ? AND event_type = 'commit' ORDER BY seq")
    .all(did) as Array<{ event: Uint8Array }>;
  return rows.map((row) => decodeCbor(row.event) as CommitEvent);
}

/** Exports the repo and verifies it with @atproto/repo; returns its record paths. */
async function verifiedPaths(did: string): Promise<string[]> {
  const res = await fetch(`${server.url}/xrpc/com.atproto.sync.getRepo?did=${did}`);
  assert.equal(res.status, 200);
  const { root, blocks } = await readCarWithRoot(new Uint8Array(await res.arrayBuffer()));
  const verified = await verifyRepo(blocks, root, did, (await idResolver.did.resolveAtprotoKey(did)) as string);
  return verified.creates.map((w) => `${w.collection}/${w.rkey}`).sort();
}

/** Each commit starts from the one before: its since is that rev, its prevData that commit's tree. */
async function assertUnbrokenChain(did: string): Promise<void> {
  const events = commitEvents(did);
  for (let i = 1; i < events.length; i++) {
    assert.equal(events[i].since, events[i - 1].rev, `event ${i} follows event ${i - 1}`);
    assert.ok(events[i].rev > events[i - 1].rev, `revs increase at event ${i}`);
  }
  const head = await fetch(`${server.url}/xrpc/com.atproto.sync.getLatestCommit?did=${did}`).then((r) => r.json() as Promise<{ cid: string; rev: string }>);
  assert.equal(events[events.length - 1].commit.$link, head.cid);
  assert.equal(events[events.length - 1].rev, head.rev);
}

const post = (text: string) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });

/** A post with an image whose blob was never uploaded: its commit fails inside the transaction. */
const postWithMissingImage = (text: string) => ({
  ...post(text),
  embed: {
    $type: 'app.bsky.embed.images',
    images: [{ alt: '', image: { $type: 'blob', ref: { $link: 'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy' }, mimeType: 'image/png', size: 1000 } }],
  },
});

/** Holds each WAL fsync of the test server until `release` (the fsync itself still runs, later). */
function holdFsyncs(): { held: () => number; release: () => void } {
  const db = server.server.ctx.db;
  const original = db.syncWal;
  const gates: Array<() => void> = [];
  db.syncWal = () => new Promise<void>((resolve) => gates.push(resolve)).then(() => original.call(db));
  return {
    held: () => gates.length,
    release: () => {
      db.syncWal = original;
      for (const open of gates.splice(0)) open();
    },
  };
}

/** A relay's view of the server: the official firehose client, verifying each commit. */
function followFirehose(): { events: Event[]; errors: Error[]; stop: () => Promise<void> } {
  const events: Event[] = [];
  const errors: Error[] = [];
  const firehose = new Firehose({
    idResolver,
    service: server.url.replace('http', 'ws'),
    runner: new MemoryRunner({ startCursor: server.server.ctx.sequencer.latestSeq() }),
    filterCollections: ['app.bsky.feed.post'],
    handleEvent: (evt) => void events.push(evt),
    onError: (err) => void errors.push(err),
  });
  firehose.start();
  let stopped: Promise<void> | undefined;
  return { events, errors, stop: () => (stopped ??= firehose.destroy()) };
}

describe('concurrent writes to one repository', () => {
  it('acknowledges every create, in a chain of commits a verifying relay client follows, with several commits in one transaction', async (t) => {
    const agent = await newAgent('chain1');
    const did = agent.session!.did;
    const relay = followFirehose();
    t.after(relay.stop);
    const { events, errors } = relay;
    const before = server.server.ctx.committer.stats;

    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) => agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post(`chained ${i}`) })),
    );
    const stats = server.server.ctx.committer.stats;
    assert.equal(new Set(created.map((c) => c.data.uri)).size, 40);
    // (some of them may share a commit: see the merging tests below)
    assert.ok(new Set(created.map((c) => c.data.commit!.rev)).size > 1, 'several commits');
    assert.ok(stats.transactions - before.transactions < stats.writes - before.writes, 'some transaction held several commits');

    await until(() => events.filter((e) => e.event === 'create' && e.did === did).length >= 40);
    await relay.stop();
    assert.deepEqual(errors.map((e) => e.message), []);
    await assertUnbrokenChain(did);
    assert.deepEqual(await verifiedPaths(did), created.map((c) => c.data.uri.split('/').slice(3).join('/')).sort());
    const latest = await agent.com.atproto.sync.getLatestCommit({ did });
    assert.equal(latest.data.rev, created.map((c) => c.data.commit!.rev).sort().pop());
  });

  it('starts the creates queued over a commit that fails again from the repository as it is, and loses none of them', async () => {
    const agent = await newAgent('chain2');
    const did = agent.session!.did;
    const { repo, lexicons } = server.server.ctx;
    const restartsBefore = repo.restarts;
    // its blob was never uploaded: the commit fails inside the transaction, after the creates
    // behind it were worked out over it (the calls below take the repo's lock in this order)
    const failing = repo.applyWrites(did, [
      prepareRecord(lexicons, { collection: 'app.bsky.feed.post', swapRecord: null, record: postWithMissingImage('has an image that is not there') }, 'create'),
    ]);
    const behind = Array.from({ length: 12 }, (_, i) =>
      repo.applyWrites(did, [prepareRecord(lexicons, { collection: 'app.bsky.feed.post', swapRecord: null, record: post(`behind the failing one ${i}`) }, 'create')]),
    );
    await assert.rejects(failing, /Could not find blob/);
    const ok = await Promise.all(behind);
    assert.ok(repo.restarts > restartsBefore, 'a create queued over the failing commit started over');
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: basicAuth(server.adminPassword) } }).then((r) => r.text());
    assert.equal(valueOf(parsePrometheusText(metrics), 'squall_repo_write_restarts_total', {}), repo.restarts, 'operators see the restarts');
    await assertUnbrokenChain(did);
    assert.deepEqual(await verifiedPaths(did), ok.map((r) => r.results[0].uri.split('/').slice(3).join('/')).sort());
  });

  it('answers InvalidSwap to a create of a record key that a queued commit creates', async () => {
    const agent = await newAgent('chain3');
    const did = agent.session!.did;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () => agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaaa2', record: post('same key') })),
    );
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    for (const o of outcomes) if (o.status === 'rejected') assert.equal((o.reason as { error: string }).error, 'InvalidSwap');
    assert.deepEqual(await verifiedPaths(did), ['app.bsky.feed.post/3kaaaaaaaaaa2']);
  });

  it('lets an update or delete wait for the queued creates it follows', async () => {
    const agent = await newAgent('chain4');
    const did = agent.session!.did;
    const { repo, lexicons } = server.server.ctx;
    const create = (rkey: string | undefined, text: string) =>
      repo.applyWrites(did, [prepareRecord(lexicons, { collection: 'app.bsky.feed.post', rkey, swapRecord: null, record: post(text) }, 'create')]);
    // in this order on the repo's lock: the update and the delete read the record index, so they
    // must see the creates queued before them
    const results = await Promise.all([
      create('3kaaaaaaaaaa2', 'to be edited'),
      create(undefined, 'beside'),
      repo.applyWrites(did, [prepareRecord(lexicons, { collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaaa2', record: post('edited') }, 'update')]),
      create('3kaaaaaaaaab2', 'short-lived'),
      repo.applyWrites(did, [{ action: 'delete', collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaab2' }], { ignoreMissingDelete: true }),
    ]);
    assert.ok(results.every((r) => r.commit !== undefined), 'the delete found the record the create before it made');
    await assertUnbrokenChain(did);
    const paths = await verifiedPaths(did);
    assert.equal(paths.length, 2);
    assert.ok(!paths.includes('app.bsky.feed.post/3kaaaaaaaaab2'));
    const got = await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaaa2' });
    assert.equal((got.data.value as { text: string }).text, 'edited');
  });

  it('starts a write from the head the last committed write left, and over again from the database when that head is no longer the root', async () => {
    const agent = await newAgent('chain5');
    const did = agent.session!.did;
    const { repo, db, signingKeys } = server.server.ctx;
    const restartsBefore = repo.restarts;
    for (let i = 0; i < 3; i++) await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post(`one after another ${i}`) });
    assert.equal(repo.restarts, restartsBefore, 'writes one after another start from the kept head, which is the root');
    await assertUnbrokenChain(did);

    // The root moves behind the write path's back (no code of ours writes repo_root without
    // dropping the kept head; this stands in for a bug that would): a new commit over the same
    // tree, written with SQL. The next write, made over the kept head, fails the check inside
    // its transaction and starts over from the database.
    const head = db.prepare('SELECT cid, rev, data FROM repo_root WHERE did = ?').get(did) as { cid: string; rev: string; data: string };
    const signed = await signCommit({ did, data: parseCid(head.data), rev: nextTidAfter(head.rev) }, signingKeys.get(did)!);
    const moved = cidToString(signed.cid);
    db.transaction(() => {
      db.prepare('INSERT INTO repo_block (did, cid, rev, bytes) VALUES (?, ?, ?, ?)').run(did, moved, signed.commit.rev, signed.bytes);
      db.prepare('DELETE FROM repo_block WHERE did = ? AND cid = ?').run(did, head.cid);
      db.prepare('UPDATE repo_root SET cid = ?, rev = ? WHERE did = ?').run(moved, signed.commit.rev, did);
    });
    const after = await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post('over the moved root') });
    assert.equal(repo.restarts, restartsBefore + 1, 'the write over the stale head started over once');
    assert.ok(after.data.commit!.rev > signed.commit.rev);
    const last = commitEvents(did).pop()!;
    assert.equal(last.since, signed.commit.rev, 'the commit follows the root as the database had it');
    assert.equal((await verifiedPaths(did)).length, 4);
  });

  it('drops the kept head when a repository is imported over, and the next write follows the imported head', async () => {
    const agent = await newAgent('chain6');
    const did = agent.session!.did;
    const { repo } = server.server.ctx;
    await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post('before the export') });
    const exported = await fetch(`${server.url}/xrpc/com.atproto.sync.getRepo?did=${did}`);
    const car = new Uint8Array(await exported.arrayBuffer());
    await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post('after the export, gone with the import') });
    await agent.com.atproto.repo.importRepo(car, { encoding: 'application/vnd.ipld.car' });
    const imported = await agent.com.atproto.sync.getLatestCommit({ did });
    const restartsBefore = repo.restarts;
    const next = await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post('after the import') });
    assert.equal(repo.restarts, restartsBefore, 'the write read the imported head, not the one before the import');
    assert.ok(next.data.commit!.rev > imported.data.rev);
    assert.equal(commitEvents(did).pop()!.since, imported.data.rev);
    assert.deepEqual((await verifiedPaths(did)).length, 2);
  });

  it('starts over from the database when a write made over a stale kept head fails: a delete of a record the kept tree lacks', async () => {
    const agent = await newAgent('chain7');
    const did = agent.session!.did;
    const { repo, lexicons, db, sequencer, committer, signingKeys, firehose, blobs } = server.server.ctx;
    await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: post('kept in the head') });
    // Another writer of the same database (a second RepoService with its own kept heads, as a
    // second process would be) creates a record: the server's kept head is now stale, and its
    // tree lacks the record that the record index (read from the database) says is there.
    const other = new RepoService({ db, records: new RecordIndex(db), sequencer, committer, locks: new RepoLocks(), keys: signingKeys, firehose, blobs });
    const made = await other.applyWrites(did, [prepareRecord(lexicons, { collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaac2', swapRecord: null, record: post('written by the other') }, 'create')]);
    const restartsBefore = repo.restarts;
    await agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaac2' });
    assert.equal(repo.restarts, restartsBefore + 1, 'the delete, refused over the stale head, started over once');
    assert.equal(commitEvents(did).pop()!.since, made.commit!.rev, 'and follows the other writer\'s commit');
    assert.equal((await verifiedPaths(did)).length, 1);
  });
});

describe('creates merged into one commit', () => {
  const postIn = (agent: AtpAgent, text: string, rkey?: string) =>
    agent.com.atproto.repo.createRecord({ repo: agent.session!.did, collection: 'app.bsky.feed.post', rkey, record: post(text) }).then((r) => r.data);

  it('makes one commit of the creates that arrive while a commit of the repo waits for the running fsync, which a verifying relay follows', async (t) => {
    const agent = await newAgent('merge1');
    const did = agent.session!.did;
    const { repo, committer } = server.server.ctx;
    const relay = followFirehose();
    t.after(relay.stop);
    const before = repo.merges;
    const fifthKey = nextTidAfter(null);
    const fsyncs = holdFsyncs();
    let first, second, mergedOne, mergedBatch, mergedFive;
    try {
      // the first commit is in its fsync; the second waits for the group after it
      first = postIn(agent, 'first');
      await until(() => fsyncs.held() >= 1);
      const queuedBefore = committer.queued;
      second = postIn(agent, 'second');
      await until(() => committer.queued > queuedBefore);
      // these cannot be durable before that group either: they share one commit
      mergedOne = postIn(agent, 'merged 1');
      mergedBatch = agent.com.atproto.repo
          .applyWrites({
            repo: did,
            writes: ['merged 2', 'merged 3', 'merged 4'].map((text) => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: post(text) })),
          })
          .then((r) => r.data);
      mergedFive = postIn(agent, 'merged 5', fifthKey);
      await until(() => repo.merges.waiting === 3);
    } finally {
      fsyncs.release();
    }
    const [a, b] = await Promise.all([first, second]);
    const [c, d, e] = await Promise.all([mergedOne!, mergedBatch!, mergedFive!]);
    assert.notEqual(a.commit!.rev, b.commit!.rev);
    assert.deepEqual(d.commit, c.commit, 'the calls share a commit');
    assert.deepEqual(e.commit, c.commit);
    assert.ok(c.commit!.rev > b.commit!.rev, 'after the commit queued before them');
    assert.equal(repo.merges.commits - before.commits, 1);
    assert.equal(repo.merges.calls - before.calls, 3);
    assert.equal(repo.merges.waiting, 0);

    // each call answers for its own records, with their own keys and CIDs
    const results = [{ uri: c.uri, cid: c.cid }, ...d.results!.map((r) => r as { uri: string; cid: string }), { uri: e.uri, cid: e.cid }];
    assert.equal(e.uri, `at://${did}/app.bsky.feed.post/${fifthKey}`);
    const texts = ['merged 1', 'merged 2', 'merged 3', 'merged 4', 'merged 5'];
    for (const [i, result] of results.entries()) {
      const rkey = result.uri.split('/').pop()!;
      const stored = await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey });
      assert.equal(stored.data.cid, result.cid);
      assert.equal((stored.data.value as { text: string }).text, texts[i]);
    }

    // the relay sees one commit with the five creates, and a chain it verifies
    await until(() => relay.events.filter((ev) => ev.event === 'create' && ev.did === did).length >= 7);
    await relay.stop();
    assert.deepEqual(relay.errors.map((err) => err.message), []);
    const inMerged = relay.events.filter((ev) => ev.event === 'create' && ev.did === did && ev.rev === c.commit!.rev);
    assert.deepEqual(inMerged.map((ev) => (ev.event === 'create' ? ev.uri.toString() : '')).sort(), results.map((r) => r.uri).sort());
    await assertUnbrokenChain(did);
    assert.deepEqual(await verifiedPaths(did), [a.uri, b.uri, ...results.map((r) => r.uri)].map((uri) => uri.split('/').slice(3).join('/')).sort());

    const metrics = parsePrometheusText(await fetch(`${server.url}/metrics`, { headers: { authorization: basicAuth(server.adminPassword) } }).then((r) => r.text()));
    assert.equal(valueOf(metrics, 'squall_repo_merged_commits_total', {}), repo.merges.commits);
    assert.equal(valueOf(metrics, 'squall_repo_merged_calls_total', {}), repo.merges.calls);
  });

  it('gives each call the answer it would have had alone when the merged commit fails: two creates of one key, a blob that is not there', async () => {
    const agent = await newAgent('merge2');
    const did = agent.session!.did;
    const { repo, committer } = server.server.ctx;
    const before = repo.merges;
    const sameKey = nextTidAfter(null);
    const fsyncs = holdFsyncs();
    let queued, merged;
    try {
      queued = [postIn(agent, 'first')];
      await until(() => fsyncs.held() >= 1);
      const queuedBefore = committer.queued;
      queued.push(postIn(agent, 'second'));
      await until(() => committer.queued > queuedBefore);
      // over plain HTTP, to see each answer's status as it is
      const create = (record: unknown, rkey?: string) =>
        fetch(`${server.url}/xrpc/com.atproto.repo.createRecord`, {
          method: 'POST',
          headers: { authorization: `Bearer ${agent.session!.accessJwt}`, 'content-type': 'application/json' },
          body: JSON.stringify({ repo: did, collection: 'app.bsky.feed.post', rkey, record }),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as { uri?: string; error?: string; message?: string } }));
      merged = [
        create(post('one'), sameKey),
        create(post('two'), sameKey),
        create(postWithMissingImage('an image that is not there')),
        create(post('fine')),
      ];
      await until(() => repo.merges.waiting === 4);
    } finally {
      fsyncs.release();
    }
    await Promise.all(queued!);
    const [one, two, blob, fine] = await Promise.all(merged!);
    assert.equal(one.status, 200);
    assert.equal(fine.status, 200);
    assert.deepEqual([two.status, two.body.error], [409, 'InvalidSwap'], 'the same answer as a create of a key that exists');
    assert.equal(blob.status, 400);
    assert.match(blob.body.message!, /Could not find blob/);
    assert.equal(repo.merges.fallbacks - before.fallbacks, 1);
    assert.equal(repo.merges.commits, before.commits);
    const kept = await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: sameKey });
    assert.equal((kept.data.value as { text: string }).text, 'one', 'the first create of the key stays');
    await assertUnbrokenChain(did);
    const all = [...(await Promise.all(queued!)).map((r) => r.uri), one.body.uri!, fine.body.uri!];
    assert.deepEqual(await verifiedPaths(did), all.map((uri) => uri.split('/').slice(3).join('/')).sort());
  });
});
