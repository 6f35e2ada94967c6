import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SNIFF_BYTES } from './content-type.ts';
import { UploadTooLargeError } from './errors.ts';
import { writeTempUpload } from './temp-upload.ts';
import { chunksOf, rawCid } from './test-fixture.ts';

describe('writeTempUpload', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'squall-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes several MiB arriving in odd-sized chunks byte for byte, with their CID and head', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 12_345);
    const temp = await writeTempUpload(chunksOf(bytes, 40_009), { dir, limit: bytes.length });
    assert.equal(temp.size, bytes.length);
    assert.equal(temp.cid, rawCid(bytes));
    assert.ok(readFileSync(temp.file).equals(bytes));
    assert.ok(Buffer.from(temp.head).equals(bytes.subarray(0, SNIFF_BYTES)));
    rmSync(temp.file);
  });

  it('keeps a head shorter than the sniff window for a small upload, and takes an empty one', async () => {
    const small = await writeTempUpload(chunksOf(Buffer.from('tiny')), { dir, limit: 10 });
    assert.equal(Buffer.from(small.head).toString(), 'tiny');
    rmSync(small.file);
    const empty = await writeTempUpload(chunksOf(new Uint8Array(0)), { dir, limit: 10 });
    assert.equal(empty.size, 0);
    assert.equal(empty.cid, rawCid(new Uint8Array(0)));
    rmSync(empty.file);
  });

  it('removes its file when the source fails while a write is still in flight', async () => {
    async function* failing() {
      for (let i = 0; i < 40; i++) yield new Uint8Array(64 * 1024);
      throw new Error('connection reset');
    }
    await assert.rejects(writeTempUpload(failing(), { dir, limit: 1e9 }), /connection reset/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('fails past the limit after whole batches were written, and removes its file', async () => {
    await assert.rejects(writeTempUpload(chunksOf(randomBytes(2_500_000)), { dir, limit: 2_400_000 }), UploadTooLargeError);
    assert.deepEqual(readdirSync(dir), []);
  });
});
