import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeypair } from '../crypto/index.ts';
import { Database, migrate, migrations } from '../db/index.ts';
import blobsMigration from '../db/migrations/0005-blobs.ts';
import { decodeCbor } from '../ipld/cbor.ts';
import { GroupCommitter } from '../repo/group-commit.ts';
import { RecordIndex } from '../repo/record-index.ts';
import { RepoLocks } from '../repo/repo-lock.ts';
import { RepoService } from '../repo/repo-service.ts';
import { encodeSigningKey, SigningKeys } from '../repo/signing-keys.ts';
import { Firehose } from '../sync/firehose.ts';
import { SequencerLog } from '../sync/sequencer-log.ts';
import { AccountStore } from './account-store.ts';
import { accountEvent, activateAccount, countAccountData, deactivateAccount, updateTakedown, type AccountStateDeps } from './account-state.ts';
import { AccountError } from './errors.ts';

let dir: string;
let db: Database;
let deps: AccountStateDeps;
let sequencer: SequencerLog;
let firehose: Firehose;
const revoked: string[] = [];

async function addAccount(did: string, handle: string): Promise<void> {
  const keypair = await generateKeypair('ES256K');
  await (deps.repo as RepoService).createRepo(did, keypair, () => {
    deps.accounts.insert({ did, handle, email: null, passwordHash: 'x', signingKey: encodeSigningKey(keypair), signingKeyDid: keypair.did(), createdAt: new Date().toISOString() });
  });
}

function eventsAfter(seq: number, did: string) {
  return sequencer
    .readAfter(seq, 1000)
    .filter((e) => e.did === did)
    .map((e) => ({ type: e.type, body: decodeCbor(e.encoded) as Record<string, unknown> }));
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'squall-'));
  db = new Database(join(dir, 'pds.sqlite'));
  const all = migrations.some((m) => m.id === blobsMigration.id) ? migrations : [...migrations, blobsMigration];
  assert.equal(migrate(db, all).error, undefined);
  const accounts = new AccountStore(db);
  sequencer = new SequencerLog(db);
  firehose = new Firehose(sequencer);
  const committer = new GroupCommitter(db);
  const repo = new RepoService({
    db,
    records: new RecordIndex(db),
    sequencer,
    committer,
    locks: new RepoLocks(),
    keys: new SigningKeys((did) => accounts.byDid(did)?.signingKey),
    firehose,
  });
  deps = { db, accounts, committer, sequencer, firehose, repo, sessions: { revokeAll: (did) => void revoked.push(did) } };
});
after(() => {
  firehose.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('account state', () => {
  it('describes the account in #account events, a takedown outranking a deactivation', () => {
    const base = { did: 'did:plc:x', deactivatedAt: null, takedownRef: null } as const;
    const view = (over: object) => accountEvent({ ...(base as object), ...over } as Parameters<typeof accountEvent>[0]);
    assert.deepEqual(view({}), { did: 'did:plc:x', active: true });
    assert.deepEqual(view({ deactivatedAt: '2030-01-01T00:00:00Z' }), { did: 'did:plc:x', active: false, status: 'deactivated' });
    assert.deepEqual(view({ deactivatedAt: '2030-01-01T00:00:00Z', takedownRef: 'r' }), { did: 'did:plc:x', active: false, status: 'takendown' });
    // An account arriving by migration is deactivated to everyone else.
    const arriving = { deactivatedAt: '2030-01-01T00:00:00Z', arrivingAt: '2030-01-01T00:00:00Z' };
    assert.deepEqual(view(arriving), { did: 'did:plc:x', active: false, status: 'deactivated' });
  });

  it('deactivates and reactivates with events in the same transaction as the change', async () => {
    const did = 'did:plc:stateaaaaaaaaaaaaaaaaaaa';
    await addAccount(did, 'state.test');
    const start = sequencer.latestSeq();
    const paused = await deactivateAccount(deps, did, '2031-01-01T00:00:00.000Z');
    assert.ok(paused.deactivatedAt);
    assert.equal(paused.deleteAfter, '2031-01-01T00:00:00.000Z');
    const resumed = await activateAccount(deps, did);
    assert.equal(resumed.deactivatedAt, null);
    assert.deepEqual(
      eventsAfter(start, did).map((e) => [e.type, e.body.active ?? null, e.body.status ?? null]),
      [
        ['account', false, 'deactivated'],
        ['account', true, null],
        ['identity', null, null],
        ['sync', null, null],
      ],
    );
  });

  it('takes down with a time stamp when no ref is given, ends the sessions, and restores', async () => {
    const did = 'did:plc:takedownaaaaaaaaaaaaaaaa';
    await addAccount(did, 'down.test');
    const down = await updateTakedown({ ...deps, now: () => new Date('2030-05-05T00:00:00.000Z') }, did, { applied: true });
    assert.equal(down.takedownRef, '2030-05-05T00:00:00.000Z');
    assert.ok(revoked.includes(did));
    const up = await updateTakedown(deps, did, { applied: false, ref: 'ignored' });
    assert.equal(up.takedownRef, null);
  });

  it('refuses to change an account that does not exist, and appends nothing', async () => {
    const start = sequencer.latestSeq();
    await assert.rejects(deactivateAccount(deps, 'did:plc:nobodyaaaaaaaaaaaaaaaaaa'), (err) => err instanceof AccountError && err.code === 'AccountNotFound');
    assert.equal(sequencer.latestSeq(), start);
  });

  it('counts what is stored: blocks, records, preferences, and expected against held blobs', async () => {
    const did = 'did:plc:countaaaaaaaaaaaaaaaaaaa';
    await addAccount(did, 'count.test');
    const blocks = (db.prepare('SELECT count(*) AS n FROM repo_block WHERE did = ?').get(did) as { n: number }).n;
    const insertPref = db.prepare("INSERT INTO account_pref (did, name, value_json) VALUES (?, ?, '{}')");
    insertPref.run(did, 'a');
    insertPref.run(did, 'b');
    // Three distinct blobs referenced (one by two records), two of them held here.
    const ref = db.prepare('INSERT INTO record_blob (did, blob_cid, collection, rkey) VALUES (?, ?, ?, ?)');
    ref.run(did, 'bafkreiaaa', 'app.bsky.feed.post', '1');
    ref.run(did, 'bafkreiaaa', 'app.bsky.feed.post', '2');
    ref.run(did, 'bafkreibbb', 'app.bsky.feed.post', '2');
    ref.run(did, 'bafkreiccc', 'app.bsky.feed.post', '3');
    const blob = db.prepare("INSERT INTO blob (did, cid, mime_type, size, temp, created_at) VALUES (?, ?, 'image/png', 10, ?, '2030-01-01')");
    blob.run(did, 'bafkreiaaa', 0);
    blob.run(did, 'bafkreibbb', 0);
    blob.run(did, 'bafkreiunref', 1);
    assert.deepEqual(countAccountData(db, did), { repoBlocks: blocks, indexedRecords: 0, privateStateValues: 2, expectedBlobs: 3, importedBlobs: 2 });
    assert.deepEqual(countAccountData(db, 'did:plc:otheraaaaaaaaaaaaaaaaaaa'), {
      repoBlocks: 0,
      indexedRecords: 0,
      privateStateValues: 0,
      expectedBlobs: 0,
      importedBlobs: 0,
    });
  });
});
