// The migration command's final check (src/migrate/compare-repos.ts): record by record, and whose
// signature the new PDS's head may carry.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateKeypair } from '../src/crypto/index.ts';
import { compareRepos } from '../src/migrate/compare-repos.ts';
import { buildRepoCar } from './helpers/repo-car.ts';

const DID = 'did:plc:comparerepostestaaaaaaaa';
const scratchDir = mkdtempSync(join(tmpdir(), 'squall-compare-'));
after(() => rmSync(scratchDir, { recursive: true, force: true }));

async function* chunks(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
}

describe('compareRepos', () => {
  it('accepts the new head signed by the key the DID document names, with every record the same', async () => {
    const [oldKey, newKey] = [await generateKeypair('ES256K'), await generateKeypair('ES256K')];
    const theirs = await buildRepoCar(DID, oldKey, 300);
    const ours = await buildRepoCar(DID, newKey, 300);
    const result = await compareRepos(chunks(theirs.car), chunks(ours.car), { did: DID, key: newKey.did(), scratchDir });
    assert.deepEqual([result.same, result.missingCount, result.differentCount, result.extraCount], [300, 0, 0, 0]);
  });

  it('accepts the very commit the old PDS serves (the official PDS re-signs only at the next write)', async () => {
    const oldKey = await generateKeypair('ES256K');
    const theirs = await buildRepoCar(DID, oldKey, 50);
    const newKey = await generateKeypair('ES256K');
    const result = await compareRepos(chunks(theirs.car), chunks(theirs.car), { did: DID, key: newKey.did(), scratchDir });
    assert.equal(result.same, 50);
  });

  it('refuses another commit signed by a key the DID document does not name', async () => {
    const [oldKey, otherKey, newKey] = [await generateKeypair('ES256K'), await generateKeypair('ES256K'), await generateKeypair('ES256K')];
    const theirs = await buildRepoCar(DID, oldKey, 20);
    const ours = await buildRepoCar(DID, otherKey, 20);
    await assert.rejects(compareRepos(chunks(theirs.car), chunks(ours.car), { did: DID, key: newKey.did(), scratchDir }), /not signed by/);
  });

  it('counts records missing on the new side and records only there', async () => {
    const key = await generateKeypair('ES256K');
    const theirs = await buildRepoCar(DID, key, 40);
    const ours = await buildRepoCar(DID, key, 30);
    const result = await compareRepos(chunks(theirs.car), chunks(ours.car), { did: DID, key: key.did(), scratchDir });
    assert.deepEqual([result.same, result.missingCount, result.extraCount], [30, 10, 0]);
    const reverse = await compareRepos(chunks(ours.car), chunks(theirs.car), { did: DID, key: key.did(), scratchDir });
    assert.deepEqual([reverse.same, reverse.missingCount, reverse.extraCount], [30, 0, 10]);
  });
});
