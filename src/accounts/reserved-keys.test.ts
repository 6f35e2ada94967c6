import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../crypto/index.ts';
import type { Database } from '../db/index.ts';
import { openMigratedDatabase, type MigratedDatabase } from '../../test/helpers/migrated-database.ts';
import { ReservedSigningKeys } from './reserved-keys.ts';

let store: MigratedDatabase;
let db: Database;
let keys: ReservedSigningKeys;

before(() => {
  store = openMigratedDatabase();
  db = store.db;
  keys = new ReservedSigningKeys(db);
});
after(() => store.close());

describe('reserved signing keys', () => {
  it('stores a secp256k1 key whose private half signs for the did:key it answered', async () => {
    const didKey = await keys.reserve();
    assert.match(didKey, /^did:key:zQ3s/);
    const reserved = keys.get(didKey)!;
    assert.equal(reserved.did, null);
    assert.equal(reserved.keypair.did(), didKey);
    const msg = new TextEncoder().encode('commit bytes');
    assert.equal(await verifySignature(didKey, msg, await reserved.keypair.sign(msg)), true);
  });

  it('keeps one key per DID, even when requests for it race', async () => {
    const did = 'did:plc:raceaaaaaaaaaaaaaaaaaaaa';
    const answers = await Promise.all(Array.from({ length: 8 }, () => keys.reserve(did)));
    assert.equal(new Set(answers).size, 1);
    assert.equal((db.prepare('SELECT count(*) AS n FROM reserved_signing_key WHERE did = ?').get(did) as { n: number }).n, 1);
    assert.equal(keys.forDid(did)?.publicKeyDid, answers[0]);
  });

  it('forgets a key once it is deleted', async () => {
    const didKey = await keys.reserve('did:plc:takenaaaaaaaaaaaaaaaaaaa');
    keys.delete(didKey);
    assert.equal(keys.get(didKey), undefined);
    assert.equal(keys.forDid('did:plc:takenaaaaaaaaaaaaaaaaaaa'), undefined);
  });
});
