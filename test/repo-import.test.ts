import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Secp256k1Keypair } from '@atproto/crypto';
import type { LexMap } from '@atproto/lex-data';
import { getFullRepo, MemoryBlockstore, readCarWithRoot as refReadCar, Repo, verifyRepo, WriteOpAction } from '@atproto/repo';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { readCarWithRoot } from '../src/ipld/car.ts';
import { fromBytes, type Bytes } from '../src/ipld/cbor.ts';
import { encodeCarHeader } from '../src/ipld/car-write.ts';
import { cidForRaw, cidToString, parseCid } from '../src/ipld/cid.ts';
import { eventsOf, logIn, signUp, signUpArriving, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';
import { testIdResolver } from './helpers/plc.ts';
import { tid } from './helpers/repo-car.ts';

let env: AccountsEnv;
before(async () => {
  env = await startAccountsEnv({ PDS_MAX_REPO_IMPORT_SIZE: String(4 * 1024 * 1024) });
});
after(() => env.close());

const CAR = 'application/vnd.ipld.car';

/** POSTs a CAR to importRepo: as bytes with a Content-Length, or chunked (a stream, no length). */
async function importCar(user: SignedUp, car: Uint8Array, opts: { chunked?: boolean; token?: string } = {}) {
  const body = opts.chunked
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < car.length; i += 64 * 1024) controller.enqueue(car.subarray(i, i + 64 * 1024));
          controller.close();
        },
      })
    : car;
  const res = await fetch(`${env.url}/xrpc/com.atproto.repo.importRepo`, {
    method: 'POST',
    headers: { 'content-type': CAR, authorization: `Bearer ${opts.token ?? user.agent.session!.accessJwt}` },
    body,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as { error?: string; message?: string }) };
}

async function exportRepo(user: SignedUp): Promise<Uint8Array> {
  return (await user.agent.com.atproto.sync.getRepo({ did: user.did })).data;
}

async function postMany(user: SignedUp, count: number, from = 0): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    const writes = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      writes.push({
        $type: 'com.atproto.repo.applyWrites#create' as const,
        collection: 'app.bsky.feed.post',
        rkey: tid(from + i),
        value: { $type: 'app.bsky.feed.post', text: `post ${from + i}`, createdAt: new Date().toISOString() },
      });
    }
    await user.agent.com.atproto.repo.applyWrites({ repo: user.did, writes });
  }
}

/** What the server holds for the account, as checkAccountStatus reports it. */
async function statusOf(user: SignedUp) {
  const { activated, repoCommit, repoRev, repoBlocks, indexedRecords, expectedBlobs, importedBlobs } = (
    await user.agent.com.atproto.server.checkAccountStatus()
  ).data;
  return { activated, repoCommit, repoRev, repoBlocks, indexedRecords, expectedBlobs, importedBlobs };
}

/** Every record of the account's repo by path, with its CID, as the database indexes them. */
function indexedRecords(did: string): Map<string, string> {
  const rows = env.ctx.db.prepare('SELECT collection, rkey, cid FROM record WHERE did = ? ORDER BY collection, rkey').all(did) as Array<{
    collection: string;
    rkey: string;
    cid: string;
  }>;
  return new Map(rows.map((r) => [`${r.collection}/${r.rkey}`, r.cid]));
}

/** The records of a CAR, read and verified by the official library. */
async function recordsOfCar(car: Uint8Array, did: string, key: string): Promise<Map<string, string>> {
  const { root, blocks } = await refReadCar(car);
  const verified = await verifyRepo(blocks, root, did, key);
  return new Map(verified.creates.map((op) => [`${op.collection}/${op.rkey}`, op.cid.toString()]));
}

describe('importRepo', () => {
  it('restores a live account to a snapshot: records and CIDs exactly, a head re-signed with a newer rev, and a #sync', async () => {
    const alice = await signUp(env, 'import-alice');
    await postMany(alice, 250);
    const snapshot = await exportRepo(alice);
    const key = await testIdResolver(env.plc.url).did.resolveAtprotoKey(alice.did);
    const expected = await recordsOfCar(snapshot, alice.did, key);
    // the repo moves on after the snapshot: an update, deletes, new posts
    await alice.agent.com.atproto.repo.putRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      rkey: tid(7),
      record: { $type: 'app.bsky.feed.post', text: 'edited', createdAt: new Date().toISOString() },
    });
    await alice.agent.com.atproto.repo.deleteRecord({ repo: alice.did, collection: 'app.bsky.feed.post', rkey: tid(8) });
    await postMany(alice, 20, 1000);
    const before = await statusOf(alice);
    const seq = env.ctx.sequencer.latestSeq();

    const res = await importCar(alice, snapshot);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const status = await statusOf(alice);
    assert.equal(status.indexedRecords, 250);
    assert.deepEqual(indexedRecords(alice.did), expected);
    // only the blocks the repo is made of are kept: commit and nodes in the block table, records' with the records
    const stored = env.ctx.db
      .prepare('SELECT (SELECT count(*) FROM repo_block WHERE did = $did) + (SELECT count(DISTINCT cid) FROM record WHERE did = $did) AS n')
      .get({ did: alice.did }) as { n: number };
    assert.equal(status.repoBlocks, stored.n);
    assert.equal(stored.n, (await readCarWithRoot(snapshot)).blocks.size);
    const records = env.ctx.db.prepare('SELECT count(*) AS n FROM repo_block b JOIN record r ON r.did = b.did AND r.cid = b.cid WHERE b.did = ?').get(alice.did) as { n: number };
    assert.equal(records.n, 0, "no record's block is in the block table");
    // relays are told, with a rev after everything they saw before
    assert.ok(status.repoRev > before.repoRev);
    const events = eventsOf(env.ctx, alice.did, seq);
    assert.deepEqual(events.map((e) => e.type), ['sync']);
    assert.equal(events[0].body.rev, status.repoRev);
    assert.equal(cidToString((await readCarWithRoot(fromBytes(events[0].body.blocks as Bytes))).root), status.repoCommit);

    const exported = await exportRepo(alice);
    assert.deepEqual(await recordsOfCar(exported, alice.did, key), expected);
    await alice.agent.post({ text: 'after the import', createdAt: new Date().toISOString() });
    assert.equal((await statusOf(alice)).indexedRecords, 251);
  });

  it('fills in an arriving account without a word on the firehose, and a newer CAR replaces the first', async () => {
    const hal = await signUpArriving(env, 'import-hal');
    const keypair = await officialKeypairOf(hal.did);
    const post = (text: string) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() });
    const first = await officialRepoCar(hal.did, keypair, [1, 2, 3, 4].map((i) => ({ collection: 'app.bsky.feed.post', rkey: tid(i), record: post(`v1 ${i}`) })));
    const second = await officialRepoCar(hal.did, keypair, [
      { collection: 'app.bsky.feed.post', rkey: tid(1), record: post('v2 1, edited') },
      { collection: 'app.bsky.feed.post', rkey: tid(3), record: post('v1 3') },
      { collection: 'app.bsky.feed.like', rkey: tid(9), record: { $type: 'app.bsky.feed.like', subject: { uri: `at://${hal.did}/app.bsky.feed.post/${tid(3)}`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }, createdAt: new Date().toISOString() } },
    ]);
    const seq = env.ctx.sequencer.latestSeq();
    for (const car of [first, second]) {
      const res = await importCar(hal, car);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const { root } = await readCarWithRoot(car);
      assert.equal((await statusOf(hal)).repoCommit, cidToString(root), 'an arriving account keeps the imported commit until it activates');
    }
    assert.deepEqual([...indexedRecords(hal.did).keys()], [`app.bsky.feed.like/${tid(9)}`, `app.bsky.feed.post/${tid(1)}`, `app.bsky.feed.post/${tid(3)}`]);
    assert.deepEqual(eventsOf(env.ctx, hal.did, seq), []);
  });
});

/** A CAR of `blocks` (CID string → bytes) under the given roots, in the order given. */
function carOf(roots: string[], blocks: Array<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [encodeCarHeader(roots.map(parseCid))];
  for (const [cid, bytes] of blocks) {
    const cidBytes = parseCid(cid).bytes;
    parts.push(varintPrefixed(Buffer.concat([cidBytes, bytes])));
  }
  return Buffer.concat(parts);
}

function varintPrefixed(bytes: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = bytes.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Uint8Array.from(len), bytes]);
}

/** The account's repo signing key as the official library's keypair (to forge repos for its DID). */
async function officialKeypairOf(did: string): Promise<Secp256k1Keypair> {
  const stored = env.ctx.accounts.byDid(did)!.signingKey;
  assert.ok(stored.startsWith('ES256K:'));
  return Secp256k1Keypair.import(stored.slice('ES256K:'.length));
}

/** A repo for `did` built by the official library, signed by `keypair`, as a CAR. */
async function officialRepoCar(did: string, keypair: Secp256k1Keypair, records: Array<{ collection: string; rkey: string; record: Record<string, unknown> }>) {
  const storage = new MemoryBlockstore();
  const repo = await Repo.create(
    storage,
    did,
    keypair,
    records.map((r) => ({ action: WriteOpAction.Create, collection: r.collection as `${string}.${string}.${string}`, rkey: r.rkey, record: r.record as LexMap })),
  );
  const chunks: Uint8Array[] = [];
  for await (const chunk of getFullRepo(storage, repo.cid)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('importRepo refuses bad input with a clear 4xx and changes nothing', () => {
  let bob: SignedUp;
  let good: Uint8Array;
  let initial: Awaited<ReturnType<typeof statusOf>>;
  let beforeRecords: Map<string, string>;

  const assertUnchanged = async () => {
    assert.deepEqual(await statusOf(bob), initial);
    assert.deepEqual(indexedRecords(bob.did), beforeRecords);
    // and no staging file is left behind
    assert.deepEqual(readdirSync(env.ctx.config.storage.blobTmpDir).filter((f) => f.startsWith('repo-import-')), []);
  };

  const refused = async (car: Uint8Array, status: number, message: RegExp, opts: { chunked?: boolean } = {}) => {
    const res = await importCar(bob, car, opts);
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.headers.get('access-control-allow-origin'), '*', 'a browser tool must see the error');
    assert.match(res.body.message ?? '', message);
    await assertUnchanged();
    return res;
  };

  before(async () => {
    bob = await signUpArriving(env, 'import-bob');
    good = await officialRepoCar(
      bob.did,
      await officialKeypairOf(bob.did),
      Array.from({ length: 30 }, (_, i) => ({ collection: 'app.bsky.feed.post', rkey: tid(i), record: { $type: 'app.bsky.feed.post', text: `post ${i}`, createdAt: new Date().toISOString() } })),
    );
    assert.equal((await importCar(bob, good)).status, 200);
    initial = await statusOf(bob);
    beforeRecords = indexedRecords(bob.did);
  });

  it('refuses the repo of another DID', async () => {
    const carol = await signUp(env, 'import-carol');
    await postMany(carol, 5);
    const res = await refused(await exportRepo(carol), 400, /commit is for did:plc:.*not for this account/);
    assert.equal(res.body.error, 'InvalidRequest');
  });

  it('refuses a repo for the right DID signed by another key', async () => {
    const forger = await Secp256k1Keypair.create({ exportable: true });
    const car = await officialRepoCar(bob.did, forger, [{ collection: 'app.bsky.feed.post', rkey: tid(1), record: { $type: 'app.bsky.feed.post', text: 'forged', createdAt: new Date().toISOString() } }]);
    await refused(car, 400, /not signed by the signing key in the DID document/);
  });

  it('refuses a truncated CAR, a block that does not match its CID, no root and two roots', async () => {
    await refused(good.subarray(0, good.length - 100), 400, /could not be read: .*truncated/);
    const corrupt = Buffer.from(good);
    corrupt[corrupt.length - 20] ^= 0xff;
    await refused(corrupt, 400, /does not match its CID/);
    const { root, blocks } = await readCarWithRoot(good);
    await refused(carOf([], [...blocks]), 400, /exactly one root.*found 0/);
    const [other] = [...blocks.keys()].filter((cid) => cid !== cidToString(root));
    await refused(carOf([cidToString(root), other], [...blocks]), 400, /exactly one root.*found 2/);
    await refused(carOf([other], [...blocks]), 400, /not a valid commit/);
    await refused(Buffer.from('not a CAR at all'), 400, /could not be read/);
  });

  it('refuses a repo whose tree or records are incomplete', async () => {
    const { root, blocks } = await readCarWithRoot(good);
    const record = [...indexedRecords(bob.did).values()][3];
    const withoutRecord = [...blocks].filter(([cid]) => cid !== record);
    await refused(carOf([cidToString(root)], withoutRecord), 400, /not valid: missing record block/);
    const commitOnly = [...blocks].filter(([cid]) => cid === cidToString(root));
    await refused(carOf([cidToString(root)], commitOnly), 400, /not valid: .*missing/i);
  });

  it('answers 413 with CORS headers for a CAR over PDS_MAX_REPO_IMPORT_SIZE, declared or chunked', async () => {
    // a well-formed CAR, so that only its size is wrong: the repo, then 1 MiB blocks of filler
    const { root, blocks } = await readCarWithRoot(good);
    const filler = [1, 2, 3, 4, 5].map((n): [string, Uint8Array] => {
      const bytes = Buffer.alloc(1024 * 1024, n);
      return [cidToString(cidForRaw(bytes)), bytes];
    });
    const big = carOf([cidToString(root)], [...blocks, ...filler]);
    for (const chunked of [false, true]) {
      const res = await refused(big, 413, /larger than/, { chunked });
      assert.equal(res.body.error, 'PayloadTooLarge');
    }
  });

  it('refuses an app-password session with 403 and an account its owner deactivated with 401', async () => {
    const appPassword = (await bob.agent.com.atproto.server.createAppPassword({ name: 'importer', privileged: true })).data.password;
    const app = await logIn(env, bob.handle, appPassword);
    const res = await importCar(bob, good, { token: app.session!.accessJwt });
    assert.equal(res.status, 403);
    await assertUnchanged();

    const dave = await signUp(env, 'import-dave');
    const car = await exportRepo(dave);
    await dave.agent.com.atproto.server.deactivateAccount({});
    const paused = await importCar(dave, car);
    assert.deepEqual([paused.status, paused.body.error], [401, 'AccountDeactivated']);
  });

  it('takes the same CAR again after all that', async () => {
    const res = await importCar(bob, good, { chunked: true });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(indexedRecords(bob.did), beforeRecords);
  });
});

describe('importRepo and blobs', () => {
  it('lists the blobs imported records reference until each is uploaded, counted in checkAccountStatus', async () => {
    const erin = await signUp(env, 'import-erin');
    const keypair = await officialKeypairOf(erin.did);
    const images = [pngOfSize(3000, 1), pngOfSize(4000, 2), pngOfSize(5000, 3)];
    // upload once to learn the refs, as the old PDS would have them, then let the account forget them
    const refs: Array<Awaited<ReturnType<typeof erin.agent.uploadBlob>>['data']['blob']> = [];
    for (const image of images) refs.push((await erin.agent.uploadBlob(image, { encoding: 'image/png' })).data.blob);
    const records = [
      { collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile', displayName: 'Erin', avatar: refs[0] } },
      ...[1, 2].map((i) => ({
        collection: 'app.bsky.feed.post',
        rkey: tid(i),
        record: { $type: 'app.bsky.feed.post', text: `image ${i}`, createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ image: refs[i], alt: '' }, { image: refs[0], alt: '' }] } },
      })),
    ];
    env.ctx.db.prepare('DELETE FROM blob WHERE did = ?').run(erin.did);
    const car = await officialRepoCar(erin.did, keypair, records);
    const res = await importCar(erin, car);
    assert.equal(res.status, 200, JSON.stringify(res.body));

    const missing = async () => (await erin.agent.com.atproto.repo.listMissingBlobs({})).data.blobs.map((b) => b.cid).sort();
    assert.deepEqual(await missing(), refs.map((r) => r.ref.toString()).sort());
    assert.deepEqual([(await statusOf(erin)).expectedBlobs, (await statusOf(erin)).importedBlobs], [3, 0]);
    await erin.agent.uploadBlob(images[1], { encoding: 'image/png' });
    assert.deepEqual(await missing(), [refs[0], refs[2]].map((r) => r.ref.toString()).sort());
    for (const image of [images[0], images[2]]) await erin.agent.uploadBlob(image, { encoding: 'image/png' });
    assert.deepEqual(await missing(), []);
    const status = await statusOf(erin);
    assert.deepEqual([status.expectedBlobs, status.importedBlobs, status.indexedRecords], [3, 3, 3]);
    // the uploads are referenced, so they are permanent: served
    const blob = await erin.agent.com.atproto.sync.getBlob({ did: erin.did, cid: refs[2].ref.toString() });
    assert.equal(Buffer.from(blob.data).length, 5000);
  });
});

describe('activation after an import signed by another key', () => {
  it('re-signs the head as a new commit with the account key, in the #sync the firehose announces', async () => {
    const gina = await signUpArriving(env, 'import-gina');
    // the repo as another PDS signed it: same DID, that PDS's key
    const oldPdsKey = await Secp256k1Keypair.create({ exportable: true });
    const records = [1, 2, 3].map((i) => ({ collection: 'app.bsky.feed.post', rkey: tid(i), record: { $type: 'app.bsky.feed.post', text: `moved ${i}`, createdAt: new Date().toISOString() } }));
    const car = await officialRepoCar(gina.did, oldPdsKey, records);
    const { root } = await readCarWithRoot(car);
    // the DID document names the old PDS's key while the import runs, as during a migration
    const ginaKey = env.ctx.accounts.byDid(gina.did)!.signingKeyDid;
    await env.ctx.plc.updateSigningKey(gina.did, env.ctx.rotationKey, oldPdsKey.did());
    env.ctx.identity.dids.invalidate(gina.did);
    assert.equal((await importCar(gina, car)).status, 200);
    assert.equal((await statusOf(gina)).repoCommit, cidToString(root));
    await env.ctx.plc.updateSigningKey(gina.did, env.ctx.rotationKey, ginaKey);
    env.ctx.identity.dids.invalidate(gina.did);

    const seq = env.ctx.sequencer.latestSeq();
    await gina.agent.com.atproto.server.activateAccount();
    const head = await gina.agent.com.atproto.sync.getLatestCommit({ did: gina.did });
    assert.notEqual(head.data.cid, cidToString(root), 'a new commit');
    const key = await testIdResolver(env.plc.url).did.resolveAtprotoKey(gina.did, true);
    assert.equal(key, ginaKey);
    const exported = await exportRepo(gina);
    assert.deepEqual([...(await recordsOfCar(exported, gina.did, key)).keys()], records.map((r) => `${r.collection}/${r.rkey}`));
    const sync = eventsOf(env.ctx, gina.did, seq).find((e) => e.type === 'sync')!;
    assert.equal(sync.body.rev, head.data.rev);
    const synced = await readCarWithRoot(fromBytes(sync.body.blocks as Bytes));
    assert.equal(cidToString(synced.root), head.data.cid);
  });
});

describe('importRepo switched off', () => {
  it('answers 400 when PDS_ACCEPTING_REPO_IMPORTS is false', async () => {
    const { startTestServer } = await import('./helpers/server.ts');
    const closed = await startTestServer({ PDS_DID_PLC_URL: env.plc.url, PDS_ACCEPTING_REPO_IMPORTS: 'false' });
    try {
      const other = { ...env, url: closed.url };
      const frank = await signUp(other, 'import-frank');
      const car = await exportRepo(frank);
      const res = await fetch(`${closed.url}/xrpc/com.atproto.repo.importRepo`, {
        method: 'POST',
        headers: { 'content-type': CAR, authorization: `Bearer ${frank.agent.session!.accessJwt}` },
        body: car,
      });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { message: string }).message, /not accepting repo imports/);
    } finally {
      await closed.close();
    }
  });
});
