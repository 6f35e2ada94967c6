import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LexiconSet, acceptsMimeType, checkBlobConstraints } from './index.ts';

const BLOB_CID = 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
const blob = (mimeType: string, size: number) => ({ $type: 'blob', ref: { $link: BLOB_CID }, mimeType, size });

describe('acceptsMimeType', () => {
  it('matches exact types, type/* globs and */*', () => {
    assert.equal(acceptsMimeType(['image/png'], 'image/png'), true);
    assert.equal(acceptsMimeType(['image/png'], 'image/jpeg'), false);
    assert.equal(acceptsMimeType(['image/*'], 'image/webp'), true);
    assert.equal(acceptsMimeType(['image/*'], 'imagery/png'), false);
    assert.equal(acceptsMimeType(['*/*'], 'application/x-anything'), true);
    assert.equal(acceptsMimeType([], 'image/png'), false);
  });

  it('ignores case and parameters', () => {
    assert.equal(acceptsMimeType(['text/plain'], 'Text/Plain; charset=utf-8'), true);
    assert.equal(acceptsMimeType(['IMAGE/*'], 'image/png'), true);
  });
});

describe('checkBlobConstraints', () => {
  it('compares the real size and type with the field limits', () => {
    const field = { accept: ['image/*'], maxSize: 100 };
    assert.equal(checkBlobConstraints(field, { size: 100, mimeType: 'image/png' }), undefined);
    assert.equal(checkBlobConstraints(field, { size: 101, mimeType: 'image/png' }), 'must not be larger than 100 bytes (blob is 101 bytes)');
    assert.equal(checkBlobConstraints(field, { size: 1, mimeType: 'text/html' }), 'has MIME type text/html, which is not one of image/*');
    assert.equal(checkBlobConstraints({}, { size: 1e9, mimeType: 'x/y' }), undefined);
  });
});

describe('blobFieldsOf', () => {
  const set = LexiconSet.fromDocs([
    {
      lexicon: 1,
      id: 'com.example.gallery',
      defs: {
        main: {
          type: 'record',
          key: 'tid',
          record: {
            type: 'object',
            properties: {
              cover: { type: 'blob', accept: ['image/png'], maxSize: 1000 },
              items: { type: 'array', items: { type: 'ref', ref: '#item' } },
              attachment: { type: 'union', refs: ['#file'] },
              extra: { type: 'unknown' },
            },
          },
        },
        item: { type: 'object', properties: { media: { type: 'blob', accept: ['video/*'] } } },
        file: { type: 'object', properties: { data: { type: 'blob', maxSize: 5 } } },
      },
    },
  ]);

  const record = {
    $type: 'com.example.gallery',
    cover: blob('image/png', 10),
    items: [{ media: blob('video/mp4', 20) }],
    attachment: { $type: 'com.example.gallery#file', data: blob('text/plain', 3) },
    extra: { nested: blob('audio/ogg', 40) },
    undeclared: [blob('image/gif', 50)],
  };

  it('follows refs, arrays and unions to the constraints of each blob field', () => {
    assert.deepEqual(set.blobFieldsOf('com.example.gallery', record), [
      { path: 'cover', cid: BLOB_CID, mimeType: 'image/png', size: 10, accept: ['image/png'], maxSize: 1000 },
      { path: 'items/0/media', cid: BLOB_CID, mimeType: 'video/mp4', size: 20, accept: ['video/*'] },
      { path: 'attachment/data', cid: BLOB_CID, mimeType: 'text/plain', size: 3, maxSize: 5 },
      { path: 'extra/nested', cid: BLOB_CID, mimeType: 'audio/ogg', size: 40 },
      { path: 'undeclared/0', cid: BLOB_CID, mimeType: 'image/gif', size: 50 },
    ]);
  });

  it('returns the same list from a successful validateRecord', () => {
    const res = set.validateRecord('com.example.gallery', record);
    assert.ok(res.success, res.success ? '' : res.message);
    assert.deepEqual(res.blobs, set.blobFieldsOf('com.example.gallery', record));
  });

  it('enforces limits reached through a union variant', () => {
    const res = set.validateRecord('com.example.gallery', { ...record, attachment: { $type: 'com.example.gallery#file', data: blob('text/plain', 6) } });
    assert.deepEqual(res, { success: false, message: 'Record/attachment/data must not be larger than 5 bytes (blob is 6 bytes)' });
  });

  it('still lists blobs of a record type it does not know, without constraints', () => {
    assert.deepEqual(set.blobFieldsOf('com.example.other', { $type: 'com.example.other', a: blob('image/png', 1) }), [
      { path: 'a', cid: BLOB_CID, mimeType: 'image/png', size: 1 },
    ]);
  });
});
