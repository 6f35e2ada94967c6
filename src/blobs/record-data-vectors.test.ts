// Drives shared/interop/lexicon/record-data-{valid,invalid}.json through the blob service: every
// case that carries blob refs gets real uploads whose stored size and sniffed type equal what
// the ref declares, and applyRecordBlobs must then agree with the vectors on the blob fields'
// `maxSize` and `accept`, judged on the stored blobs.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { LexiconSet } from '../lexicon/index.ts';
import { BlobRefError } from './errors.ts';
import { blobFixture, chunksOf, pngOfSize, type BlobFixture } from './test-fixture.ts';

const dir = new URL('../../../shared/interop/lexicon/', import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

interface RecordCase {
  name: string;
  rkey: string;
  data: { $type: string } & Record<string, unknown>;
}

interface JsonBlob {
  $type: 'blob';
  mimeType: string;
  size: number;
  ref: { $link: string };
}

/** The cases the vectors' README names as blob constraint failures, with the error this PDS gives. */
const BLOB_CONSTRAINT_CASES: Record<string, string> = {
  'blob too large': 'BlobTooLarge',
  'blob wrong type': 'InvalidMimeType',
};

function blobsIn(value: unknown, out: JsonBlob[] = []): JsonBlob[] {
  if (Array.isArray(value)) value.forEach((v) => blobsIn(v, out));
  else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (obj.$type === 'blob' && typeof obj.ref === 'object') out.push(obj as unknown as JsonBlob);
    else Object.values(obj).forEach((v) => blobsIn(v, out));
  }
  return out;
}

/** Bytes that this PDS stores with exactly `mimeType` and `size`. */
function bytesFor(mimeType: string, size: number): Buffer {
  if (mimeType === 'image/png') return pngOfSize(size);
  assert.ok(mimeType === 'text/plain', `no sample bytes for ${mimeType}`);
  return Buffer.alloc(size, 'a');
}

describe('record data vectors through the blob service', () => {
  const catalog = readdirSync(new URL('catalog/', dir)).map((f) => load(`catalog/${f}`));
  const lexicons = LexiconSet.fromDocs(catalog);
  const cases: Array<RecordCase & { valid: boolean }> = [
    ...(load('record-data-valid.json') as RecordCase[]).map((c) => ({ ...c, valid: true })),
    ...(load('record-data-invalid.json') as RecordCase[]).map((c) => ({ ...c, valid: false })),
  ];
  const withBlobs = cases.filter((c) => blobsIn(c.data).length > 0);
  let fx: BlobFixture;
  before(() => {
    fx = blobFixture();
  });
  after(() => fx.close());

  it('finds blob refs in the valid "full" case and in both constraint cases', () => {
    const names = withBlobs.map((c) => c.name);
    for (const name of ['full', ...Object.keys(BLOB_CONSTRAINT_CASES)]) assert.ok(names.includes(name), name);
  });

  withBlobs.forEach((c, i) => {
    const expected = BLOB_CONSTRAINT_CASES[c.name];
    it(`${expected ? `refuses with ${expected}` : 'accepts'} the blobs of the ${c.valid ? 'valid' : 'invalid'} case "${c.name}"`, async () => {
      const did = `did:plc:vectorcase${String(i).padStart(4, '0')}`;
      const data = structuredClone(c.data);
      // The vectors' refs point at a dag-cbor CID; each becomes a real upload of the declared type and size.
      for (const blob of blobsIn(data)) {
        const ref = await fx.service.upload(did, chunksOf(bytesFor(blob.mimeType, blob.size)), blob.mimeType);
        assert.equal(ref.mimeType, blob.mimeType);
        assert.equal(ref.size, blob.size);
        blob.ref = { $link: ref.ref.$link };
      }
      let fields;
      try {
        fields = lexicons.blobFieldsOf(data.$type, data);
      } catch {
        assert.ok(!c.valid && !expected, 'only cases invalid for other reasons may hold data blobFieldsOf refuses');
        return;
      }
      const apply = () => fx.service.applyRecordBlobs(did, `at://${did}/${data.$type}/${c.rkey}`, fields);
      if (expected) assert.throws(apply, (err: unknown) => err instanceof BlobRefError && err.code === expected);
      else assert.deepEqual(apply(), []);
    });
  });
});
