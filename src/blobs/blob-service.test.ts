import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BlobField } from '../lexicon/index.ts';
import { RecordIndex } from '../repo/record-index.ts';
import { BlobNotFoundError, BlobRefError, BlobTakendownError, UploadTooLargeError } from './errors.ts';
import { blobFixture, chunksOf, pngOfSize, rawCid, type BlobFixture } from './test-fixture.ts';
import type { BlobRefJson } from './blob-service.ts';

const ALICE = 'did:plc:alice0000000000000000000';
const BOB = 'did:plc:bob00000000000000000000000';
const POST = 'app.bsky.feed.post';
const uri = (did: string, rkey: string, collection = POST) => `at://${did}/${collection}/${rkey}`;

/** The BlobField the Lexicon layer would produce for `ref` in a field with these constraints. */
function field(ref: BlobRefJson, constraints: { accept?: string[]; maxSize?: number } = {}, path = 'embed/images/0/image'): BlobField {
  return { path, cid: ref.ref.$link, mimeType: ref.mimeType, size: ref.size, ...constraints };
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

function refCode(code: string) {
  return (err: unknown) => err instanceof BlobRefError && err.code === code;
}

let fx: BlobFixture;
beforeEach(() => {
  fx = blobFixture();
});
afterEach(() => fx.close());

describe('BlobService.upload', () => {
  it('stores the bytes under their raw sha-256 CID with the sniffed type and real size', async () => {
    const png = pngOfSize(200_000, 7);
    const ref = await fx.service.upload(ALICE, chunksOf(png), 'image/jpeg');
    assert.deepEqual(ref, { $type: 'blob', ref: { $link: rawCid(png) }, mimeType: 'image/png', size: png.length });
    assert.match(ref.ref.$link, /^bafkrei[a-z2-7]{52}$/);
    const stored = await fx.store.get(ALICE, ref.ref.$link);
    assert.ok(stored && (await readAll(stored.stream)).equals(png));
    assert.deepEqual(readdirSync(fx.tmpDir), [], 'the temp file was moved, not left behind');
  });

  it('keeps an upload temporary: not servable until a record references it', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(randomBytes(100)), 'application/octet-stream');
    assert.throws(() => fx.service.servable(ALICE, ref.ref.$link), BlobNotFoundError);
  });

  it('stops reading as soon as the upload passes the limit, and leaves nothing behind', async () => {
    const small = blobFixture({ uploadLimit: 1000 });
    try {
      let pulled = 0;
      async function* endless() {
        for (;;) {
          pulled++;
          yield new Uint8Array(300);
        }
      }
      await assert.rejects(small.service.upload(ALICE, endless(), 'text/plain'), (err: unknown) => err instanceof UploadTooLargeError && err.limit === 1000);
      assert.equal(pulled, 4, 'the fourth chunk crosses 1,000 bytes; no fifth is read');
      assert.deepEqual(readdirSync(small.tmpDir), []);
      const exact = await small.service.upload(ALICE, chunksOf(randomBytes(1000)), 'text/plain');
      assert.equal(exact.size, 1000, 'exactly the limit is allowed');
    } finally {
      small.close();
    }
  });

  it('removes the temp file when the client goes away mid-upload', async () => {
    async function* broken() {
      yield new Uint8Array(5000);
      throw new Error('socket hang up');
    }
    await assert.rejects(fx.service.upload(ALICE, broken(), 'text/plain'), /socket hang up/);
    assert.deepEqual(readdirSync(fx.tmpDir), []);
  });

  it('takes the same bytes from two accounts at once, each with its own copy', async () => {
    const bytes = pngOfSize(300_000, 1);
    const refs = await Promise.all([
      fx.service.upload(ALICE, chunksOf(bytes), 'image/png'),
      fx.service.upload(BOB, chunksOf(bytes), 'image/png'),
      fx.service.upload(ALICE, chunksOf(bytes), 'image/png'),
      fx.service.upload(BOB, chunksOf(bytes), 'image/png'),
    ]);
    for (const ref of refs) assert.deepEqual(ref, refs[0]);
    const cid = refs[0].ref.$link;
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(refs[0])]);
    await fx.service.deleteAccountBlobs(ALICE);
    assert.equal(await fx.store.exists(ALICE, cid), false);
    assert.equal(await fx.store.exists(BOB, cid), true, "deleting one account's copy leaves the other's");
    assert.deepEqual(readdirSync(fx.tmpDir), []);
  });

  it('answers a re-upload with the type stored first, so refs handed out stay true', async () => {
    const text = Buffer.from('plain words');
    const first = await fx.service.upload(ALICE, chunksOf(text), 'text/plain');
    const second = await fx.service.upload(ALICE, chunksOf(text), 'application/json');
    assert.equal(second.mimeType, 'text/plain');
    assert.deepEqual(second, first);
  });

  it('puts back a file that went missing when the same bytes are uploaded again', async () => {
    const bytes = randomBytes(1000);
    const ref = await fx.service.upload(ALICE, chunksOf(bytes), undefined);
    await fx.store.delete(ALICE, ref.ref.$link);
    await fx.service.upload(ALICE, chunksOf(bytes), undefined);
    assert.equal(await fx.store.exists(ALICE, ref.ref.$link), true);
  });
});

describe('BlobService.applyRecordBlobs', () => {
  it('references an upload from a record and makes it servable', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(pngOfSize(5000)), 'image/png');
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, uri(ALICE, '3k2a'), [field(ref, { accept: ['image/*'], maxSize: 1_000_000 })]), []);
    assert.deepEqual(fx.service.servable(ALICE, ref.ref.$link), { cid: ref.ref.$link, mimeType: 'image/png', size: 5000 });
    const bytes = await readAll(await fx.service.read(ALICE, fx.service.servable(ALICE, ref.ref.$link), { start: 0, end: 7 }));
    assert.ok(bytes.equals(pngOfSize(5000).subarray(0, 8)));
  });

  it('refuses a blob the account never uploaded, even if another account did', async () => {
    const ref = await fx.service.upload(BOB, chunksOf(randomBytes(10)), undefined);
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(ref)]), refCode('BlobNotFound'));
    const unknown = { ...ref, ref: { $link: rawCid(Buffer.from('never uploaded')) } };
    assert.throws(() => fx.service.applyRecordBlobs(BOB, uri(BOB, 'a'), [field(unknown)]), refCode('BlobNotFound'));
  });

  it('refuses a ref that misstates the stored type or size', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(pngOfSize(4000)), 'image/png');
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field({ ...ref, mimeType: 'image/jpeg' })]), refCode('InvalidMimeType'));
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field({ ...ref, size: 10 })]), refCode('InvalidSize'));
  });

  it("judges the Lexicon's maxSize and accept on the stored size and the sniffed type", async () => {
    // Declared as an image, but the bytes are HTML: stored as application/octet-stream.
    const html = await fx.service.upload(ALICE, chunksOf(Buffer.from('<html><script>alert(1)</script></html>')), 'image/png');
    assert.equal(html.mimeType, 'application/octet-stream');
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(html, { accept: ['image/*'] })]), refCode('InvalidMimeType'));
    const big = await fx.service.upload(ALICE, chunksOf(pngOfSize(2001)), 'image/png');
    assert.throws(
      () => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(big, { accept: ['image/png'], maxSize: 2000 })]),
      (err: unknown) => err instanceof BlobRefError && err.code === 'BlobTooLarge' && err.path === 'embed/images/0/image',
    );
    assert.throws(() => fx.service.servable(ALICE, big.ref.$link), BlobNotFoundError, 'a refused ref leaves the blob temporary');
  });

  it('writes nothing when one of several refs is refused', async () => {
    const good = await fx.service.upload(ALICE, chunksOf(pngOfSize(100)), 'image/png');
    const bad = { ...good, ref: { $link: rawCid(Buffer.from('missing')) } };
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(good), field(bad)]), refCode('BlobNotFound'));
    assert.throws(() => fx.service.servable(ALICE, good.ref.$link), BlobNotFoundError);
    assert.deepEqual(fx.service.listBlobs(ALICE, { limit: 10 }), { cids: [] });
  });

  it('leaves no trace when the enclosing commit transaction rolls back', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(pngOfSize(100)), 'image/png');
    assert.throws(() =>
      fx.db.transaction(() => {
        fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(ref)]);
        throw new Error('commit failed');
      }),
    );
    assert.throws(() => fx.service.servable(ALICE, ref.ref.$link), BlobNotFoundError);
  });

  it('returns the blob a delete leaves unreferenced, which is gone after deleteUnreferenced', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(pngOfSize(100)), 'image/png');
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(ref)]);
    const freed = fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), []);
    assert.deepEqual(freed, [ref.ref.$link]);
    assert.throws(() => fx.service.servable(ALICE, ref.ref.$link), BlobNotFoundError, 'not served once the delete committed');
    await fx.service.deleteUnreferenced(ALICE, freed);
    assert.equal(await fx.store.exists(ALICE, ref.ref.$link), false);
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'b'), [field(ref)]), refCode('BlobNotFound'));
  });

  it('references the blobs of a created record, which has no references to look up, as of any other', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(pngOfSize(100)), 'image/png');
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'c'), [], { created: true }), [], 'a create without blobs changes nothing');
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'c'), [field(ref)], { created: true }), []);
    assert.equal(fx.service.servable(ALICE, ref.ref.$link).size, 100, 'permanent once a created record references it');
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'd'), [field({ ...ref, size: 10 })], { created: true }), refCode('InvalidSize'), 'checked as any new reference');
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'c'), []), [ref.ref.$link], "the record's delete finds the reference the create made");
  });

  it('keeps a blob while another record of the account still references it', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(pngOfSize(100)), 'image/png');
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(ref)]);
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'self', 'app.bsky.actor.profile'), [field(ref, {}, 'avatar')]);
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), []), []);
    assert.equal(fx.service.servable(ALICE, ref.ref.$link).size, 100);
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'self', 'app.bsky.actor.profile'), []), [ref.ref.$link]);
  });

  it('returns the old blob when an update swaps it for a new one, and keeps a blob the update keeps', async () => {
    const oldRef = await fx.service.upload(ALICE, chunksOf(pngOfSize(100)), 'image/png');
    const newRef = await fx.service.upload(ALICE, chunksOf(pngOfSize(101)), 'image/png');
    const profile = uri(ALICE, 'self', 'app.bsky.actor.profile');
    fx.service.applyRecordBlobs(ALICE, profile, [field(oldRef, {}, 'avatar'), field(newRef, {}, 'banner')]);
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, profile, [field(newRef, {}, 'avatar')]), [oldRef.ref.$link]);
    assert.equal(fx.service.servable(ALICE, newRef.ref.$link).size, 101);
  });

  it('does not re-judge a ref the record already had, so old records can still be updated', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(Buffer.from('words')), 'text/plain');
    const profile = uri(ALICE, 'self', 'app.bsky.actor.profile');
    fx.service.applyRecordBlobs(ALICE, profile, [field(ref, {}, 'avatar')]);
    // e.g. a ref written by another PDS before migration, with a type this PDS would not sniff
    const legacy = { ...field(ref, {}, 'avatar'), mimeType: 'text/x-old', size: undefined };
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, profile, [legacy]), []);
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'new'), [legacy]), refCode('InvalidMimeType'));
  });

  it('spares a blob uploaded again between the delete and its cleanup, until its TTL', async () => {
    const bytes = pngOfSize(100);
    const ref = await fx.service.upload(ALICE, chunksOf(bytes), 'image/png');
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(ref)]);
    const freed = fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), []);
    await fx.service.upload(ALICE, chunksOf(bytes), 'image/png');
    await fx.service.deleteUnreferenced(ALICE, freed);
    assert.equal(await fx.store.exists(ALICE, ref.ref.$link), true);
    assert.deepEqual(fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'b'), [field(ref)]), []);
  });

  it('spares a blob referenced again before the cleanup ran', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(pngOfSize(100)), 'image/png');
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(ref)]);
    const freed = fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), []);
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'b'), [field(ref)]);
    await fx.service.deleteUnreferenced(ALICE, freed);
    assert.equal(fx.service.servable(ALICE, ref.ref.$link).size, 100);
  });

  it('refuses a ref to a taken-down blob, and its re-upload', async () => {
    const bytes = pngOfSize(100);
    const ref = await fx.service.upload(ALICE, chunksOf(bytes), 'image/png');
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(ref)]);
    assert.equal(fx.service.setTakedown(ALICE, ref.ref.$link, 'mod-1'), true);
    assert.throws(() => fx.service.servable(ALICE, ref.ref.$link), BlobNotFoundError);
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'b'), [field(ref)]), refCode('BlobNotFound'));
    await assert.rejects(fx.service.upload(ALICE, chunksOf(bytes), 'image/png'), BlobTakendownError);
    fx.service.setTakedown(ALICE, ref.ref.$link, null);
    assert.equal(fx.service.servable(ALICE, ref.ref.$link).size, 100);
  });
});

describe('BlobService.read', () => {
  it('does not serve a file that is not the size its metadata records, and tells the operator', async () => {
    const logged: Array<{ obj: object; msg?: string }> = [];
    const own = blobFixture({ log: { warn() {}, error: (obj, msg) => logged.push({ obj, msg }) } });
    try {
      const png = pngOfSize(200_000, 5);
      const ref = await own.service.upload(ALICE, chunksOf(png), 'image/png');
      own.service.applyRecordBlobs(ALICE, uri(ALICE, '3k2b'), [field(ref)]);
      const blob = own.service.servable(ALICE, ref.ref.$link);
      const file = own.store.pathOf(ALICE, blob.cid);
      assert.ok((await readAll(await own.service.read(ALICE, blob))).equals(png), 'whole, it is served');

      truncateSync(file, 150_000); // cut short
      await assert.rejects(own.service.read(ALICE, blob), BlobNotFoundError);
      await assert.rejects(own.service.read(ALICE, blob, { start: 0, end: 99 }), BlobNotFoundError, 'a range inside the short file too');
      await assert.rejects(own.service.read(ALICE, blob, { start: 160_000, end: 199_999 }), BlobNotFoundError, 'and one past its end');
      writeFileSync(file, Buffer.concat([png, Buffer.from('more')])); // longer: would run into the next answer
      await assert.rejects(own.service.read(ALICE, blob), BlobNotFoundError);

      const lines = logged.filter((l) => l.msg === 'blob file is not the size its metadata records');
      assert.equal(lines.length, 4);
      assert.deepEqual(lines[0].obj, { did: ALICE, cid: blob.cid, size: 200_000, fileSize: 150_000 });
      assert.deepEqual(lines[3].obj, { did: ALICE, cid: blob.cid, size: 200_000, fileSize: 200_004 });
    } finally {
      own.close();
    }
  });
});

describe('BlobService.collectExpired', () => {
  it('deletes unreferenced uploads older than the TTL, and nothing else', async () => {
    const t0 = fx.clock.now.getTime();
    const old = await fx.service.upload(ALICE, chunksOf(randomBytes(10)), undefined);
    const kept = await fx.service.upload(ALICE, chunksOf(pngOfSize(100)), 'image/png');
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(kept)]);
    fx.clock.now = new Date(t0 + fx.service.tempTtlMs - 1000);
    const young = await fx.service.upload(ALICE, chunksOf(randomBytes(11)), undefined);

    assert.equal(await fx.service.collectExpired(new Date(t0 + fx.service.tempTtlMs)), 0, 'exactly at the TTL nothing is due yet');
    assert.equal(await fx.service.collectExpired(new Date(t0 + fx.service.tempTtlMs + 1)), 1);
    assert.equal(await fx.store.exists(ALICE, old.ref.$link), false);
    assert.throws(() => fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'b'), [field(old)]), refCode('BlobNotFound'));
    assert.equal(await fx.store.exists(ALICE, young.ref.$link), true);
    assert.equal(fx.service.servable(ALICE, kept.ref.$link).size, 100);
  });

  it('gives a temporary blob a fresh TTL when it is uploaded again', async () => {
    const t0 = fx.clock.now.getTime();
    const bytes = randomBytes(10);
    const ref = await fx.service.upload(ALICE, chunksOf(bytes), undefined);
    fx.clock.now = new Date(t0 + fx.service.tempTtlMs - 1);
    await fx.service.upload(ALICE, chunksOf(bytes), undefined);
    assert.equal(await fx.service.collectExpired(new Date(t0 + fx.service.tempTtlMs + 1)), 0);
    assert.equal(await fx.store.exists(ALICE, ref.ref.$link), true);
  });

  it('collects a blob whose post-commit cleanup never ran', async () => {
    const ref = await fx.service.upload(ALICE, chunksOf(randomBytes(10)), undefined);
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(ref)]);
    fx.clock.now = new Date(fx.clock.now.getTime() + 1000);
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), []);
    // (the process died here, before deleteUnreferenced)
    assert.equal(await fx.service.collectExpired(new Date(fx.clock.now.getTime() + fx.service.tempTtlMs + 1)), 1);
    assert.equal(await fx.store.exists(ALICE, ref.ref.$link), false);
  });

  it('works through more expired uploads than one batch', async () => {
    const batched = blobFixture({ expiryBatch: 4 });
    try {
      for (let i = 0; i < 11; i++) await batched.service.upload(i % 2 ? ALICE : BOB, chunksOf(Buffer.from(`blob ${i}`)), 'text/plain');
      assert.equal(await batched.service.collectExpired(new Date(batched.clock.now.getTime() + batched.service.tempTtlMs + 1)), 11);
    } finally {
      batched.close();
    }
  });

  it('sweeps temp files that interrupted uploads left, and only those', async () => {
    const stale = join(fx.tmpDir, 'upload-left-by-a-crash');
    const other = join(fx.tmpDir, 'something-else');
    writeFileSync(stale, 'x');
    writeFileSync(other, 'y');
    const past = (Date.now() - fx.service.tempTtlMs - 60_000) / 1000;
    utimesSync(stale, past, past);
    utimesSync(other, past, past);
    await fx.service.collectExpired(new Date());
    assert.deepEqual(readdirSync(fx.tmpDir), ['something-else']);
  });
});

describe('BlobService listings', () => {
  it('lists referenced blobs in CID order with a cursor, never temporary or taken-down ones', async () => {
    const refs: BlobRefJson[] = [];
    for (let i = 0; i < 5; i++) refs.push(await fx.service.upload(ALICE, chunksOf(Buffer.from(`blob ${i}`)), 'text/plain'));
    const temp = await fx.service.upload(ALICE, chunksOf(Buffer.from('temp')), 'text/plain');
    refs.forEach((ref, i) => fx.service.applyRecordBlobs(ALICE, uri(ALICE, `r${i}`), [field(ref)]));
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'dup'), [field(refs[0])]);
    fx.service.setTakedown(ALICE, refs[4].ref.$link, 'mod');
    const expected = refs.slice(0, 4).map((r) => r.ref.$link).sort();

    const first = fx.service.listBlobs(ALICE, { limit: 3 });
    assert.deepEqual(first, { cids: expected.slice(0, 3), cursor: expected[2] });
    assert.deepEqual(fx.service.listBlobs(ALICE, { limit: 3, cursor: first.cursor }), { cids: expected.slice(3) });
    assert.ok(!fx.service.listBlobs(ALICE, { limit: 100 }).cids.includes(temp.ref.$link));
    assert.deepEqual(fx.service.listBlobs(BOB, { limit: 100 }), { cids: [] });
  });

  it('lists with since only blobs of records written after that rev', async () => {
    const records = new RecordIndex(fx.db);
    const a = await fx.service.upload(ALICE, chunksOf(Buffer.from('a')), 'text/plain');
    const b = await fx.service.upload(ALICE, chunksOf(Buffer.from('b')), 'text/plain');
    // The write path updates the record index and the blob refs in one transaction; so do we.
    fx.db.transaction(() => {
      records.put(ALICE, POST, 'one', 'bafyreiaaaa', Buffer.from('one'), '3kaaaaaaaaa22', 'now');
      fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'one'), [field(a)]);
    });
    fx.db.transaction(() => {
      records.put(ALICE, POST, 'two', 'bafyreibbbb', Buffer.from('two'), '3kbbbbbbbbb22', 'now');
      fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'two'), [field(b)]);
    });
    assert.deepEqual(fx.service.listBlobs(ALICE, { limit: 10, since: '3kaaaaaaaaa22' }).cids, [b.ref.$link]);
    assert.deepEqual(fx.service.listBlobs(ALICE, { limit: 10, since: '2222222222222' }).cids, [a.ref.$link, b.ref.$link].sort());
    assert.deepEqual(fx.service.listBlobs(ALICE, { limit: 10, since: '3kbbbbbbbbb22' }).cids, []);
  });

  it('lists blobs imported records reference but this PDS lacks, until they are uploaded', async () => {
    const present = await fx.service.upload(ALICE, chunksOf(Buffer.from('here')), 'text/plain');
    const missing = [Buffer.from('m1'), Buffer.from('m2'), Buffer.from('m3')];
    fx.service.applyImportedRecordBlobs(ALICE, uri(ALICE, 'x'), [present.ref.$link, rawCid(missing[0])]);
    fx.service.applyImportedRecordBlobs(ALICE, uri(ALICE, 'y'), [rawCid(missing[1]), rawCid(missing[2])]);
    fx.service.applyImportedRecordBlobs(ALICE, uri(ALICE, 'z', 'app.bsky.actor.profile'), [rawCid(missing[1])]);
    const all = missing.map((m) => rawCid(m)).sort();

    // One referencing record per blob: m2 is in two records, the first by (collection, rkey) is named.
    const recordOf = new Map([
      [rawCid(missing[0]), uri(ALICE, 'x')],
      [rawCid(missing[1]), uri(ALICE, 'z', 'app.bsky.actor.profile')],
      [rawCid(missing[2]), uri(ALICE, 'y')],
    ]);
    const expected = all.map((cid) => ({ cid, recordUri: recordOf.get(cid)! }));
    const page = fx.service.listMissingBlobs(ALICE, { limit: 2 });
    assert.deepEqual(page, { blobs: expected.slice(0, 2), cursor: all[1] });
    assert.deepEqual(fx.service.listMissingBlobs(ALICE, { limit: 2, cursor: page.cursor }), { blobs: expected.slice(2) });

    // Migration: the client uploads what is missing; referenced already, it is permanent at once.
    const uploaded = await fx.service.upload(ALICE, chunksOf(missing[0]), 'text/plain');
    assert.equal(fx.service.servable(ALICE, uploaded.ref.$link).size, 2);
    assert.ok(!fx.service.listMissingBlobs(ALICE, { limit: 10 }).blobs.some((b) => b.cid === uploaded.ref.$link));
    assert.equal(fx.service.servable(ALICE, present.ref.$link).size, 4, 'an imported ref makes a present upload permanent');
  });
});

describe('BlobService.deleteAccountBlobs', () => {
  it("removes one account's blobs, refs and files, and nobody else's", async () => {
    const bytes = pngOfSize(100);
    const a = await fx.service.upload(ALICE, chunksOf(bytes), 'image/png');
    const b = await fx.service.upload(BOB, chunksOf(bytes), 'image/png');
    fx.service.applyRecordBlobs(ALICE, uri(ALICE, 'a'), [field(a)]);
    fx.service.applyRecordBlobs(BOB, uri(BOB, 'a'), [field(b)]);
    await fx.service.deleteAccountBlobs(ALICE);
    assert.throws(() => fx.service.servable(ALICE, a.ref.$link), BlobNotFoundError);
    assert.deepEqual(fx.service.listBlobs(ALICE, { limit: 10 }), { cids: [] });
    assert.equal(fx.service.servable(BOB, b.ref.$link).size, 100);
  });
});
