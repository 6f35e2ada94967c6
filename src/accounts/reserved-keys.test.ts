import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifySignature } from '../crypto/index.ts';
import { Database, migrate, migrations } from '../db/index.ts';
import { ReservedSigningKeys } from './reserved-keys.ts';

let dir: string;
let db: Database;
let keys: ReservedSigningKeys;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'squall-'));
  db = new Database(join(dir, 'pds.sqlite'));
  assert.equal(migrate(db, migrations).error, undefined);
  keys = new ReservedSigningKeys(db);
});
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

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
