// A directory-backed LexiconSet reads a document when it is first needed, together with every
// document it refers to. These tests compare a fresh set, which has read nothing, with one that
// has read and prepared every vendored document: each answer must be the same.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { LexiconSet } from './index.ts';

const DIR = fileURLToPath(new URL('../../lexicons', import.meta.url));
const POST = 'app.bsky.feed.post';
const CID = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
const BLOB_CID = 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';

/** Every document read, and every record type and method body handed to the validator. */
function everythingLoaded(): LexiconSet {
  const set = LexiconSet.fromDirectory(DIR).loadAll();
  for (const id of set.ids()) {
    set.validateRecord(id, { $type: id });
    set.validateInput(id, {});
    set.validateOutput(id, {});
  }
  return set;
}

const eager = everythingLoaded();

const blob = (extra: Record<string, unknown> = {}) => ({ $type: 'blob', ref: { $link: BLOB_CID }, mimeType: 'image/jpeg', size: 1000, ...extra });
const images = (image: unknown) => ({ $type: 'app.bsky.embed.images', images: [{ image, alt: 'a cat', aspectRatio: { width: 4, height: 3 } }] });
const strongRef = { uri: 'at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a', cid: CID };
const link = (uri: string) => ({ index: { byteStart: 0, byteEnd: 5 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri }] });
const post = (extra: Record<string, unknown>) => ({ $type: POST, text: 'hello world', createdAt: '2024-05-01T12:34:56.789Z', ...extra });

const posts: Array<[string, unknown]> = [
  ['a post with an image embed, facets and a reply', post({ embed: images(blob()), facets: [link('https://example.com')], reply: { root: strongRef, parent: strongRef } })],
  ['a post with a record-with-media embed', post({ embed: { $type: 'app.bsky.embed.recordWithMedia', record: { $type: 'app.bsky.embed.record', record: strongRef }, media: images(blob()) } })],
  ['a facet link that is not a URI', post({ facets: [link('not a uri')] })],
  ['an image of the wrong MIME type', post({ embed: images(blob({ mimeType: 'video/mp4' })) })],
  ['an image without its alt text', post({ embed: { $type: 'app.bsky.embed.images', images: [{ image: blob() }] } })],
  ['an aspect ratio of zero', post({ embed: { $type: 'app.bsky.embed.images', images: [{ image: blob(), alt: '', aspectRatio: { width: 0, height: 3 } }] } })],
  ['a quoted record with a bad CID', post({ embed: { $type: 'app.bsky.embed.record', record: { ...strongRef, cid: 'nope' } } })],
  ['a reply whose parent has no uri', post({ reply: { root: strongRef, parent: { cid: CID } } })],
  ['an unknown embed type in the open union', post({ embed: { $type: 'com.example.embed', x: 1 } })],
];

describe('a LexiconSet read from a directory', () => {
  for (const [name, value] of posts) {
    it(`validates ${name} on a fresh set exactly as with every document loaded`, () => {
      const fresh = LexiconSet.fromDirectory(DIR);
      assert.equal(fresh.loadedIds().includes('app.bsky.embed.images'), false);
      assert.deepEqual(fresh.validateRecord(POST, value), eager.validateRecord(POST, value));
    });
  }

  it('reads a record type’s referenced documents on its first validation, and no unrelated ones', () => {
    const fresh = LexiconSet.fromDirectory(DIR);
    assert.deepEqual(fresh.loadedIds(), []);
    assert.equal(fresh.validateRecord(POST, posts[0][1]).success, true);
    const loaded = fresh.loadedIds();
    for (const id of [POST, 'app.bsky.embed.images', 'app.bsky.embed.defs', 'app.bsky.richtext.facet', 'com.atproto.repo.strongRef']) {
      assert.ok(loaded.includes(id), `${id} was read`);
    }
    assert.equal(loaded.some((id) => id.startsWith('chat.') || id.startsWith('tools.')), false);
    assert.ok(loaded.length < fresh.size / 2, `${loaded.length} of ${fresh.size} documents read`);
  });

  it('reads only a method’s own document to describe it, the rest when a body is validated', () => {
    const fresh = LexiconSet.fromDirectory(DIR);
    assert.equal(fresh.getMethod('app.bsky.actor.putPreferences')?.kind, 'procedure');
    assert.deepEqual(fresh.loadedIds(), ['app.bsky.actor.putPreferences']);
    const input = { preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: 'yes' }] };
    assert.deepEqual(fresh.validateInput('app.bsky.actor.putPreferences', input), eager.validateInput('app.bsky.actor.putPreferences', input));
    assert.equal(fresh.validateInput('app.bsky.actor.putPreferences', input).success, false);
    assert.ok(fresh.loadedIds().includes('app.bsky.actor.defs'));
  });

  it('gives the same blob fields for a record type read for the first time', () => {
    const value = posts[1][1];
    assert.deepEqual(LexiconSet.fromDirectory(DIR).blobFieldsOf(POST, value), eager.blobFieldsOf(POST, value));
    assert.equal(eager.blobFieldsOf(POST, value)[0].maxSize, 2000000);
  });

  it('knows record key types and method kinds without reading a referenced document', () => {
    const fresh = LexiconSet.fromDirectory(DIR);
    assert.equal(fresh.recordKeyType('app.bsky.actor.profile'), 'literal:self');
    assert.equal(fresh.hasRecord('com.example.nothing'), false);
    assert.deepEqual(fresh.loadedIds(), ['app.bsky.actor.profile']);
  });
});

describe('a set with record types prepared ahead', () => {
  it('has read their documents and everything they refer to before any write, and validates as the eager set does', () => {
    const set = LexiconSet.fromDirectory(DIR).prepareRecords([POST, 'app.bsky.feed.like', 'no.such.record']);
    const loaded = new Set(set.loadedIds());
    for (const id of [POST, 'app.bsky.feed.like', 'app.bsky.embed.images', 'app.bsky.richtext.facet', 'com.atproto.repo.strongRef']) assert.ok(loaded.has(id), id);
    assert.ok(!loaded.has('app.bsky.graph.block'));
    for (const [, value] of posts) assert.deepEqual(set.validateRecord(POST, value), eager.validateRecord(POST, value));
    assert.deepEqual(new Set(set.loadedIds()), loaded, 'validating a prepared type reads nothing more');
  });
});

describe('a set with method inputs prepared ahead', () => {
  it('has read what an input refers to and validates it as the eager set does, ignoring queries and unknown NSIDs', () => {
    const set = LexiconSet.fromDirectory(DIR).prepareInputs(['com.atproto.repo.applyWrites', 'com.atproto.repo.getRecord', 'no.such.method']);
    const loaded = new Set(set.loadedIds());
    assert.ok(loaded.has('com.atproto.repo.applyWrites') && loaded.has('com.atproto.repo.defs'), 'the input and what it refers to');
    const inputs = [
      { repo: 'did:plc:abc', writes: [{ $type: 'com.atproto.repo.applyWrites#create', collection: POST, value: post({}) }] },
      { repo: 'did:plc:abc', writes: [{ $type: 'com.atproto.repo.applyWrites#nope', collection: POST }] },
      { repo: 'did:plc:abc' },
    ];
    for (const input of inputs) assert.deepEqual(set.validateInput('com.atproto.repo.applyWrites', input), eager.validateInput('com.atproto.repo.applyWrites', input));
    assert.deepEqual(new Set(set.loadedIds()), loaded, 'validating a prepared input reads nothing more');
  });
});
