import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BytesWrapper, CidLinkWrapper, decodeCbor, encodeCbor } from './cbor.ts';
import { cidForCbor, cidToString } from './cid.ts';
import { DataModelError, dataToJson, findBlobRefs, formatPath, jsonToData, MAX_DATA_DEPTH, type BlobRef } from './data-model.ts';

const vectors = (name: string) => JSON.parse(readFileSync(new URL(`../../../shared/interop/data-model/${name}`, import.meta.url), 'utf8'));
const fixtures: Array<{ json: unknown; cbor_base64: string; cid: string }> = vectors('data-model-fixtures.json');
const valid: Array<{ note: string; json: unknown }> = vectors('data-model-valid.json');
const invalid: Array<{ note: string; json: unknown }> = vectors('data-model-invalid.json');

const BLOB_CID = 'bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity';
const LINK_CID = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a';
const unpaddedBase64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '');

describe('interop data-model fixtures', () => {
  fixtures.forEach((fixture, i) => {
    it(`fixture ${i} encodes byte-identically, hashes to its CID and decodes back to its JSON`, () => {
      const bytes = encodeCbor(jsonToData(fixture.json));
      assert.equal(unpaddedBase64(bytes), fixture.cbor_base64);
      assert.equal(cidToString(cidForCbor(bytes)), fixture.cid);
      const decoded = decodeCbor(Buffer.from(fixture.cbor_base64, 'base64'));
      assert.deepEqual(dataToJson(decoded), fixture.json);
    });
  });
});

describe('interop data-model valid cases', () => {
  for (const { note, json } of valid) {
    it(`accepts "${note}"`, () => {
      const data = jsonToData(json);
      assert.doesNotThrow(() => encodeCbor(data));
    });
  }
});

describe('interop data-model invalid cases', () => {
  for (const { note, json } of invalid) {
    it(`rejects "${note}" with a DataModelError`, () => {
      assert.throws(() => jsonToData(json), DataModelError);
    });
  }
});

describe('jsonToData', () => {
  it('returns a record without bytes or legacy blobs as the very same object', () => {
    const record = JSON.parse(`{"$type":"app.bsky.feed.post","text":"hi","embed":{"$type":"app.bsky.embed.images","images":[{"alt":"","image":{"$type":"blob","ref":{"$link":"${BLOB_CID}"},"mimeType":"image/png","size":3}}]},"reply":{"root":{"uri":"at://x","cid":"${LINK_CID}"}},"link":{"$link":"${LINK_CID}"}}`);
    assert.equal(jsonToData(record), record);
  });

  it('turns $bytes into BytesWrapper copy-on-write, leaving the input untouched', () => {
    const input = { a: { keep: [1, 2] }, b: [{ x: { $bytes: 'AQID' } }] };
    const out = jsonToData(input) as typeof input;
    assert.notEqual(out, input);
    assert.equal(out.a, input.a, 'unchanged subtrees are shared');
    assert.ok((out.b[0].x as unknown) instanceof BytesWrapper);
    assert.deepEqual(input.b[0].x, { $bytes: 'AQID' });
  });

  it('accepts padded and non-canonical base64 and re-encodes it canonically', () => {
    const padded = jsonToData({ b: { $bytes: 'AQI=' } }) as { b: BytesWrapper };
    assert.deepEqual([...padded.b.buf], [1, 2]);
    const loose = jsonToData({ b: { $bytes: '123' } }) as { b: BytesWrapper };
    assert.equal(JSON.stringify(dataToJson(loose)), '{"b":{"$bytes":"120"}}');
  });

  it('rejects base64 that cannot be bytes', () => {
    for (const bad of ['A', 'AQ-_', 'AQ==A', 'AQID=', '@@@@', 'AQ I']) {
      assert.throws(() => jsonToData({ b: { $bytes: bad } }), DataModelError, bad);
    }
  });

  it('names the path of the offending value', () => {
    assert.throws(
      () => jsonToData({ embed: { images: [{ image: { $type: 'blob', ref: { $link: 'x' }, mimeType: 'a/b', size: 1 } }] } }),
      (err: DataModelError) => err.path === 'embed.images[0].image.ref',
    );
    assert.throws(() => jsonToData({ 'odd key': [0, 1.5] }), (err: DataModelError) => err.path === '["odd key"][1]');
  });

  const rejected: Array<[string, unknown]> = [
    ['an array at the top level', [1]],
    ['null at the top level', null],
    ['a float inside an array', { a: [1, 2.5] }],
    ['an integer beyond 2^53', { a: 2 ** 53 }],
    ['NaN', { a: NaN }],
    ['undefined in an array', { a: [undefined] }],
    ['a bigint', { a: 1n }],
    ['a Uint8Array', { a: new Uint8Array(1) }],
    ['a Date', { a: new Date(0) }],
    ['a nested $type that is empty', { a: { $type: '' } }],
    ['a $link with padding-like garbage', { a: { $link: `${LINK_CID}=` } }],
    ['a $link holding a CIDv0', { a: { $link: 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR' } }],
    ['a $link that is null', { a: { $link: null } }],
    ['a blob with a negative size', { a: { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: -1 } }],
    ['a blob with a float size', { a: { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: 1.5 } }],
    ['a blob with an empty mimeType', { a: { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: '', size: 1 } }],
    ['a blob whose ref is a string', { a: { $type: 'blob', ref: BLOB_CID, mimeType: 'image/png', size: 1 } }],
    ['a blob with an extra key', { a: { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: 1, extra: 1 } }],
    ['a legacy blob whose cid is not a CID', { a: { cid: 'nope', mimeType: 'image/png' } }],
  ];
  for (const [name, json] of rejected) {
    it(`rejects ${name}`, () => {
      assert.throws(() => jsonToData(json), DataModelError);
    });
  }

  it(`rejects nesting deeper than ${MAX_DATA_DEPTH} levels without overflowing the stack`, () => {
    let deep: unknown = {};
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    assert.throws(() => jsonToData(deep), (err: Error) => err instanceof DataModelError && /nested deeper/.test(err.message));
    let ok: unknown = 1;
    for (let i = 0; i < MAX_DATA_DEPTH - 1; i++) ok = [ok];
    assert.doesNotThrow(() => jsonToData({ ok }));
  });

  it('keeps a "__proto__" key as data instead of setting a prototype', () => {
    const input = JSON.parse('{"__proto__": {"b": {"$bytes": "AQ"}}, "x": 1}');
    const out = jsonToData(input) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.ok(Object.hasOwn(out, '__proto__'));
    assert.deepEqual(Object.keys(decodeCbor(encodeCbor(out)) as object), ['x', '__proto__']);
  });

  it('ignores unknown $-prefixed keys, as the spec asks', () => {
    assert.doesNotThrow(() => jsonToData({ $future: { anything: true }, a: 1 }));
  });

  it('normalises a legacy blob to the modern form, with the size from the resolver', () => {
    const blobs: BlobRef[] = [];
    const out = jsonToData({ img: { cid: BLOB_CID, mimeType: 'image/jpeg' } }, { legacyBlobSize: (cid) => (cid === BLOB_CID ? 1234 : undefined), blobs }) as Record<string, unknown>;
    assert.deepEqual(out.img, { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/jpeg', size: 1234 });
    assert.deepEqual(blobs, [{ path: ['img'], cid: BLOB_CID, mimeType: 'image/jpeg', size: 1234, legacy: true }]);
  });

  it('marks a legacy blob of unknown size with size 0', () => {
    const out = jsonToData({ img: { cid: BLOB_CID, mimeType: 'image/jpeg' } }) as Record<string, { size: number }>;
    assert.equal(out.img.size, 0);
  });

  it('collects modern blob refs while converting', () => {
    const blobs: BlobRef[] = [];
    jsonToData({ a: [{ b: { $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size: 9 } }] }, { blobs });
    assert.deepEqual(blobs, [{ path: ['a', 0, 'b'], cid: BLOB_CID, mimeType: 'image/png', size: 9, legacy: false }]);
  });
});

describe('findBlobRefs', () => {
  it('finds every blob in key order in JSON-form and decoded records', () => {
    const blob = (size: number) => ({ $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/png', size });
    const record = { $type: 'x.y.z', avatar: blob(1), embed: { images: [{ image: blob(2) }, { image: blob(3) }] }, legacy: { cid: BLOB_CID, mimeType: 'a/b' }, n: null };
    const expected = [
      { path: ['avatar'], cid: BLOB_CID, mimeType: 'image/png', size: 1, legacy: false },
      { path: ['embed', 'images', 0, 'image'], cid: BLOB_CID, mimeType: 'image/png', size: 2, legacy: false },
      { path: ['embed', 'images', 1, 'image'], cid: BLOB_CID, mimeType: 'image/png', size: 3, legacy: false },
      { path: ['legacy'], cid: BLOB_CID, mimeType: 'a/b', size: 0, legacy: true },
    ];
    assert.deepEqual(findBlobRefs(record), expected);
    const decoded = decodeCbor(encodeCbor(record));
    assert.ok(((decoded as { avatar: { ref: unknown } }).avatar.ref) instanceof CidLinkWrapper);
    // A decoded record's keys come in canonical CBOR order: "embed" (5 bytes) before "avatar".
    assert.deepEqual(findBlobRefs(decoded), [expected[1], expected[2], expected[0], expected[3]]);
  });

  it('finds nothing in a record without blobs', () => {
    assert.deepEqual(findBlobRefs({ text: 'hello', facets: [{ index: { byteStart: 0 } }] }), []);
  });
});

describe('dataToJson', () => {
  it('turns wrappers into $link / unpadded $bytes and shares plain subtrees', () => {
    const plain = { x: [1, 'a'] };
    const value = { plain, link: decodeCbor(encodeCbor({ $link: LINK_CID })), bytes: new BytesWrapper(new Uint8Array([1, 2])) };
    const json = dataToJson(value) as Record<string, unknown>;
    assert.equal(json.plain, plain);
    assert.deepEqual(json.link, { $link: LINK_CID });
    assert.deepEqual(json.bytes, { $bytes: 'AQI' });
    assert.ok(Object.getPrototypeOf(json.link) === Object.prototype);
  });
});

describe('formatPath', () => {
  it('writes identifiers with dots, indexes and odd keys in brackets', () => {
    assert.equal(formatPath(['a', 0, 'b c', '$type']), 'a[0]["b c"].$type');
    assert.equal(formatPath([]), '');
  });
});
