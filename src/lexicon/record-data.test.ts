// Drives shared/interop/lexicon/record-data-{valid,invalid}.json against the catalog/ schema set.
// The data is in atproto JSON form, which is also this project's in-memory data model
// ({$link}, {$bytes}, blob objects), so it goes to validateRecord as parsed.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LexiconSet } from './index.ts';

const dir = new URL('../../../shared/interop/lexicon/', import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

interface RecordCase {
  name: string;
  rkey: string;
  data: { $type: string } & Record<string, unknown>;
}

describe('record data vectors against the catalog schemas', () => {
  const catalog = readdirSync(new URL('catalog/', dir)).map((f) => load(`catalog/${f}`));
  const set = LexiconSet.fromDocs(catalog);
  const valid: RecordCase[] = load('record-data-valid.json');
  const invalid: RecordCase[] = load('record-data-invalid.json');

  it('loads all five catalog documents, whose only loose end is a ref outside the catalog', () => {
    assert.equal(set.size, 5);
    assert.deepEqual(set.problems(), [
      'example.lexicon.procedure: defs/main/input/schema/properties/preferences: app.bsky.actor.defs#preferences does not resolve',
    ]);
    assert.equal(set.recordKeyType('example.lexicon.record'), 'literal:demo');
  });

  it('has the expected number of cases', () => {
    assert.equal(valid.length, 3);
    assert.equal(invalid.length, 50);
  });

  for (const c of valid) {
    it(`accepts the valid record "${c.name}"`, () => {
      const res = set.validateRecord(c.data.$type, c.data);
      assert.deepEqual(res.success ? true : res.message, true);
      if (res.success) assert.equal(res.value, c.data, 'a record is returned as written');
    });
  }

  invalid.forEach((c, i) => {
    it(`rejects the invalid record "${c.name}" (#${i})`, () => {
      const res = set.validateRecord(c.data.$type, c.data);
      assert.equal(res.success, false);
      if (!res.success) assert.match(res.message, /^Record/);
    });
  });

  it('names the blob field and its limit when a blob is too large or of the wrong type', () => {
    const tooLarge = invalid.find((c) => c.name === 'blob too large')!;
    const wrongType = invalid.find((c) => c.name === 'blob wrong type')!;
    const a = set.validateRecord(tooLarge.data.$type, tooLarge.data);
    const b = set.validateRecord(wrongType.data.$type, wrongType.data);
    assert.deepEqual(a, { success: false, message: 'Record/sizeBlob must not be larger than 20 bytes (blob is 12345 bytes)' });
    assert.deepEqual(b, { success: false, message: 'Record/acceptBlob has MIME type text/plain, which is not one of image/*' });
  });
});
