// The one test suite every BlobStore passes: the disk store runs it now, the S3-compatible store
// will run the same file. It speaks only through the BlobStore interface.
import assert from 'node:assert/strict';
import { hash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CODEC_RAW, fromDigest, toString } from '@atcute/cid';
import type { BlobStore } from './blob-store.ts';
import { BlobStoreError } from './errors.ts';

export interface BlobStoreFixture {
  store: BlobStore;
  /** A local directory where the suite writes the files it hands to `putFile`. */
  tmpDir: string;
  close(): Promise<void>;
}

const ALICE = 'did:plc:aliceaaaaaaaaaaaaaaaaaaa';
const BOB = 'did:web:bob.example.com';

function cidOf(bytes: Uint8Array): string {
  return toString(fromDigest(CODEC_RAW, hash('sha256', bytes, 'buffer')));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function runBlobStoreConformance(name: string, makeFixture: () => Promise<BlobStoreFixture>): void {
  describe(`${name} (BlobStore conformance)`, () => {
    let fx: BlobStoreFixture;
    let counter = 0;
    before(async () => {
      fx = await makeFixture();
    });
    after(async () => {
      await fx.close();
    });

    const tempFile = (bytes: Uint8Array): string => {
      const file = join(fx.tmpDir, `conformance-${process.pid}-${counter++}`);
      writeFileSync(file, bytes);
      return file;
    };
    const put = async (did: string, bytes: Uint8Array): Promise<string> => {
      const cid = cidOf(bytes);
      await fx.store.putFile(did, cid, tempFile(bytes));
      return cid;
    };
    const read = async (did: string, cid: string, range?: { start: number; end: number }) => {
      const found = await fx.store.get(did, cid, range);
      assert.ok(found, `blob ${cid} of ${did} should be there`);
      return { size: found.size, bytes: await readAll(found.stream) };
    };

    it('gives back exactly the bytes that were put, with their size', async () => {
      const bytes = randomBytes(10_000);
      const cid = await put(ALICE, bytes);
      const got = await read(ALICE, cid);
      assert.equal(got.size, bytes.length);
      assert.ok(got.bytes.equals(bytes));
      assert.deepEqual(await fx.store.stat(ALICE, cid), { size: bytes.length });
      assert.equal(await fx.store.exists(ALICE, cid), true);
    });

    it('consumes the file it was given', async () => {
      const bytes = randomBytes(100);
      const file = tempFile(bytes);
      await fx.store.putFile(ALICE, cidOf(bytes), file);
      assert.equal(existsSync(file), false);
    });

    it('streams a multi-megabyte blob intact, in more than one chunk', async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 7);
      const cid = await put(ALICE, bytes);
      const found = await fx.store.get(ALICE, cid);
      assert.ok(found);
      let chunks = 0;
      const parts: Buffer[] = [];
      for await (const chunk of found.stream) {
        chunks++;
        parts.push(chunk as Buffer);
      }
      assert.ok(chunks > 1, 'a large blob should not arrive as one buffer');
      assert.equal(cidOf(Buffer.concat(parts)), cid);
    });

    it('stores and serves the empty blob', async () => {
      const cid = await put(ALICE, new Uint8Array(0));
      const got = await read(ALICE, cid);
      assert.equal(got.size, 0);
      assert.equal(got.bytes.length, 0);
    });

    it('serves inclusive byte ranges: first byte, last byte, a middle slice, everything', async () => {
      const bytes = randomBytes(5000);
      const cid = await put(ALICE, bytes);
      for (const [start, end] of [[0, 0], [4999, 4999], [100, 1099], [0, 4999], [4000, 4999]]) {
        const got = await read(ALICE, cid, { start, end });
        assert.equal(got.size, 5000, 'size is the whole blob even for a range');
        assert.ok(got.bytes.equals(bytes.subarray(start, end + 1)), `range ${start}-${end}`);
      }
    });

    it('refuses a range that is not inside the blob', async () => {
      const cid = await put(ALICE, randomBytes(10));
      for (const range of [{ start: 5, end: 10 }, { start: 10, end: 10 }, { start: 4, end: 3 }, { start: -1, end: 2 }]) {
        await assert.rejects(fx.store.get(ALICE, cid, range), BlobStoreError, JSON.stringify(range));
      }
    });

    it('reports an absent blob as undefined, not as an error', async () => {
      const cid = cidOf(randomBytes(8));
      assert.equal(await fx.store.get(ALICE, cid), undefined);
      assert.equal(await fx.store.stat(ALICE, cid), undefined);
      assert.equal(await fx.store.exists(ALICE, cid), false);
    });

    it('keeps the same bytes of two accounts apart', async () => {
      const bytes = randomBytes(64);
      const cid = await put(ALICE, bytes);
      await put(BOB, bytes);
      await fx.store.delete(ALICE, cid);
      assert.equal(await fx.store.exists(ALICE, cid), false);
      assert.ok((await read(BOB, cid)).bytes.equals(bytes));
    });

    it('deletes a blob, and deleting an absent one is not an error', async () => {
      const cid = await put(ALICE, randomBytes(32));
      await fx.store.delete(ALICE, cid);
      assert.equal(await fx.store.get(ALICE, cid), undefined);
      await fx.store.delete(ALICE, cid);
      await fx.store.delete(BOB, cidOf(randomBytes(3)));
    });

    it('survives the same blob being put twice at once', async () => {
      const bytes = randomBytes(200_000);
      const cid = cidOf(bytes);
      await Promise.all([fx.store.putFile(ALICE, cid, tempFile(bytes)), fx.store.putFile(ALICE, cid, tempFile(bytes))]);
      assert.ok((await read(ALICE, cid)).bytes.equals(bytes));
    });

    it('serves concurrent readers of one blob', async () => {
      const bytes = randomBytes(300_000);
      const cid = await put(ALICE, bytes);
      const results = await Promise.all(Array.from({ length: 8 }, () => read(ALICE, cid)));
      for (const got of results) assert.ok(got.bytes.equals(bytes));
    });

    it('deletes every blob of one account and none of another', async () => {
      const did = 'did:plc:leavingaaaaaaaaaaaaaaaaa';
      const mine = [await put(did, randomBytes(10)), await put(did, randomBytes(20)), await put(did, randomBytes(30))];
      const kept = await put(BOB, randomBytes(40));
      await fx.store.deleteAll(did);
      for (const cid of mine) assert.equal(await fx.store.exists(did, cid), false);
      assert.equal(await fx.store.exists(BOB, kept), true);
      await fx.store.deleteAll(did);
    });

    it('refuses keys that could name something outside the store', async () => {
      const file = tempFile(randomBytes(4));
      const good = cidOf(randomBytes(4));
      const badCids = ['../../etc/passwd', 'bafkrei/../x', '', 'Bafkreiabcdefgh', `${good}/x`, 'bafkrei..abcdef'];
      for (const cid of badCids) {
        await assert.rejects(fx.store.putFile(ALICE, cid, file), BlobStoreError, cid);
        await assert.rejects(fx.store.get(ALICE, cid), BlobStoreError, cid);
        await assert.rejects(fx.store.delete(ALICE, cid), BlobStoreError, cid);
      }
      for (const did of ['../x', 'did:plc:a/../../b', 'did:plc:', 'not-a-did', 'did:PLC:abc']) {
        await assert.rejects(fx.store.putFile(did, good, file), BlobStoreError, did);
        await assert.rejects(fx.store.deleteAll(did), BlobStoreError, did);
      }
      assert.equal(existsSync(file), true, 'a refused put leaves the file alone');
    });
  });
}
