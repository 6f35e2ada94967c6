import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BytesWrapper } from '@atcute/cbor';
import { CidLinkWrapper, fromString } from '@atcute/cid';
import { BlobRef } from '@atproto/lexicon';
import { InvalidDataError } from './errors.ts';
import { type FoundBlob, MAX_DEPTH, toLex } from './to-lex.ts';

const CID = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
const BLOB_CID = 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';

function rejection(value: unknown, options = {}): { message: string; path: Array<string | number> } {
  try {
    toLex(value, options);
  } catch (err) {
    assert.ok(err instanceof InvalidDataError);
    return { message: err.message, path: err.path };
  }
  assert.fail('expected an InvalidDataError');
}

describe('toLex', () => {
  it('returns a value without links, bytes or blobs as the very same object', () => {
    const v = { $type: 'x.y.z', a: [1, 'two', { three: true, four: null }], b: {} };
    assert.equal(toLex(v), v);
  });

  it('copies only the path that leads to a converted value', () => {
    const untouched = { deep: ['x'] };
    const v = { keep: untouched, list: [{ link: { $link: CID } }] };
    const out = toLex(v) as typeof v;
    assert.notEqual(out, v);
    assert.equal(out.keep, untouched);
    assert.notEqual(out.list, v.list);
    assert.deepEqual(v.list[0].link, { $link: CID }, 'the input is not modified');
    assert.equal(String(out.list[0].link), CID);
  });

  it('turns {$link} and CidLinkWrapper into the CID class the validator checks', () => {
    const a = toLex({ $link: CID }) as { toString(): string; asCID: unknown };
    const b = toLex(new CidLinkWrapper(fromString(CID).bytes)) as { toString(): string; asCID: unknown };
    assert.equal(a.toString(), CID);
    assert.equal(b.toString(), CID);
    assert.equal(a.asCID, a);
  });

  it('turns {$bytes} (padded or not) and BytesWrapper into Uint8Array', () => {
    assert.deepEqual(toLex({ $bytes: 'AQID' }), new Uint8Array([1, 2, 3]));
    assert.deepEqual(toLex({ $bytes: 'AQI' }), new Uint8Array([1, 2]));
    assert.deepEqual(toLex({ $bytes: 'AQI=' }), new Uint8Array([1, 2]));
    const buf = new Uint8Array([9]);
    assert.equal(toLex(new BytesWrapper(buf)), buf);
    assert.equal(rejection({ $bytes: 'A' }).message, '$bytes is not valid base64');
    assert.equal(rejection({ $bytes: 'AQ-_' }).message, '$bytes is not valid base64');
  });

  it('turns a blob object into a BlobRef and reports it with its path', () => {
    const blobs: FoundBlob[] = [];
    const out = toLex({ list: [{ img: { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: 10 } }] }, { blobs }) as {
      list: Array<{ img: unknown }>;
    };
    assert.ok(out.list[0].img instanceof BlobRef);
    assert.deepEqual(blobs, [{ path: ['list', 0, 'img'], cid: BLOB_CID, mimeType: 'image/png', size: 10 }]);
  });

  it('accepts a blob whose ref is a CidLinkWrapper', () => {
    const blobs: FoundBlob[] = [];
    toLex({ $type: 'blob', ref: new CidLinkWrapper(fromString(BLOB_CID).bytes), mimeType: 'image/png', size: 1 }, { blobs });
    assert.equal(blobs[0].cid, BLOB_CID);
  });

  it('reads legacy {cid, mimeType} blobs only when asked to', () => {
    const legacy = { cid: BLOB_CID, mimeType: 'image/png' };
    assert.equal(toLex(legacy), legacy);
    const blobs: FoundBlob[] = [];
    assert.ok(toLex(legacy, { legacyBlobs: true, blobs }) instanceof BlobRef);
    assert.deepEqual(blobs, [{ path: [], cid: BLOB_CID, mimeType: 'image/png', size: undefined }]);
  });

  it('rejects malformed blobs with the reason', () => {
    const ok = { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: 1 };
    assert.match(rejection({ ...ok, extra: 1 }).message, /unexpected key "extra"/);
    assert.match(rejection({ ...ok, mimeType: '' }).message, /mimeType must be a non-empty string/);
    assert.match(rejection({ ...ok, size: 1.5 }).message, /size must be a non-negative integer/);
    assert.match(rejection({ ...ok, ref: BLOB_CID }).message, /ref must be a CID link/);
  });

  it('rejects floats, bigints and unsafe integers with the path of the value', () => {
    assert.deepEqual(rejection({ a: [{ b: 1.5 }] }).path, ['a', 0, 'b']);
    assert.deepEqual(rejection({ n: 2 ** 53 }).path, ['n']);
    assert.equal(rejection({ n: 10n }).message, 'must not be a bigint');
    assert.equal(rejection({ n: Number.NaN }).path[0], 'n');
  });

  it('rejects class instances that are not data-model values', () => {
    assert.equal(rejection({ d: new Date(0) }).message, 'must be a plain object, not Date');
    assert.equal(rejection({ b: new Uint8Array(2) }).message, 'must be a plain object, not Uint8Array');
    assert.equal(rejection({ m: new Map() }).message, 'must be a plain object, not Map');
  });

  it('refuses absurdly deep nesting with an error instead of a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.match(rejection(deep).message, /nested more than 2048 levels deep/);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_DEPTH; i++) ok = { a: ok };
    assert.doesNotThrow(() => toLex(ok));
  });

  it('keeps a "__proto__" key from JSON as an ordinary key', () => {
    const v = JSON.parse(`{"__proto__": {"l": {"$link": "${CID}"}}, "x": 1}`);
    const out = toLex(v) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.ok(Object.hasOwn(out, '__proto__'));
  });
});

describe('toLex against the data-model vectors', () => {
  const dir = new URL('../../../shared/interop/data-model/', import.meta.url);
  const load = (name: string): Array<{ note: string; json: unknown }> => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

  for (const c of load('data-model-valid.json')) {
    it(`accepts the valid value "${c.note}"`, () => {
      assert.doesNotThrow(() => toLex(c.json));
    });
  }

  for (const c of load('data-model-invalid.json')) {
    // A top-level non-object is a record-level rule: validateRecord refuses it before converting.
    if (c.note === 'top-level not an object') continue;
    it(`rejects the invalid value "${c.note}"`, () => {
      assert.throws(() => toLex(c.json), InvalidDataError);
    });
  }

  it('accepts every value of the round-trip fixtures', () => {
    for (const c of JSON.parse(readFileSync(new URL('data-model-fixtures.json', dir), 'utf8'))) assert.doesNotThrow(() => toLex(c.json));
  });
});
