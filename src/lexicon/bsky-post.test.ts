// The real, vendored app.bsky.feed.post: the record every client writes most.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { LexiconSet } from './index.ts';

const lexicons = LexiconSet.fromDirectory(fileURLToPath(new URL('../../lexicons', import.meta.url)));
const POST = 'app.bsky.feed.post';
const IMAGE_CID = 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';

const post = (extra: Record<string, unknown> = {}) => ({
  $type: POST,
  text: 'hello @alice.test, see https://example.com',
  createdAt: '2024-05-01T12:34:56.789Z',
  ...extra,
});

const facet = (byteStart: number) => ({
  index: { byteStart, byteEnd: byteStart + 5 },
  features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com' }],
});

const imageEmbed = (image: Record<string, unknown>) => ({
  $type: 'app.bsky.embed.images',
  images: [{ image, alt: 'a cat', aspectRatio: { width: 800, height: 600 } }],
});

const blob = (extra: Record<string, unknown> = {}) => ({
  $type: 'blob',
  ref: { $link: IMAGE_CID },
  mimeType: 'image/jpeg',
  size: 123456,
  ...extra,
});

function failure(value: unknown): string {
  const res = lexicons.validateRecord(POST, value);
  assert.equal(res.success, false, 'expected the post to be rejected');
  return res.success ? '' : res.message;
}

describe('app.bsky.feed.post', () => {
  it('accepts a plain post and returns it unchanged with no blobs', () => {
    const p = post({ langs: ['en', 'pt-BR'] });
    const res = lexicons.validateRecord(POST, p);
    assert.ok(res.success);
    assert.equal(res.value, p);
    assert.deepEqual(res.blobs, []);
  });

  it('rejects text over 300 graphemes but accepts 300 emoji that are longer in code units', () => {
    assert.equal(failure(post({ text: 'a'.repeat(301) })), 'Record/text must not be longer than 300 graphemes');
    const family = '👩‍👩‍👧‍👦'; // one grapheme, 11 UTF-16 code units, 25 UTF-8 bytes
    assert.equal(lexicons.validateRecord(POST, post({ text: family.repeat(120) })).success, true);
    assert.match(failure(post({ text: family.repeat(150) })), /^Record\/text must not be longer than 3000 characters/);
  });

  it('rejects a bad createdAt', () => {
    assert.equal(failure(post({ createdAt: '2024-05-01 12:34:56' })), 'Record/createdAt must be a valid datetime');
    assert.equal(failure(post({ createdAt: '2024-02-30T00:00:00Z' })), 'Record/createdAt must be a valid datetime');
    assert.equal(failure({ $type: POST, text: 'hi' }), 'Record must have the property "createdAt"');
  });

  it('rejects a negative facet byteStart (minimum: 0)', () => {
    assert.equal(lexicons.validateRecord(POST, post({ facets: [facet(0)] })).success, true);
    assert.equal(failure(post({ facets: [facet(-1)] })), 'Record/facets/0/index/byteStart can not be less than 0');
  });

  it('checks the string formats inside a facet feature', () => {
    const mention = { index: { byteStart: 6, byteEnd: 18 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'alice.test' }] };
    assert.equal(failure(post({ facets: [mention] })), 'Record/facets/0/features/0/did must be a valid did');
  });

  it('rejects a language tag that is not well-formed', () => {
    assert.equal(failure(post({ langs: ['en', 'EN'] })), 'Record/langs/1 must be a valid language');
  });

  it('accepts a post with an image embed and reports the blob with its field constraints', () => {
    const res = lexicons.validateRecord(POST, post({ embed: imageEmbed(blob()) }));
    assert.ok(res.success, res.success ? '' : res.message);
    assert.deepEqual(res.blobs, [
      { path: 'embed/images/0/image', cid: IMAGE_CID, mimeType: 'image/jpeg', size: 123456, accept: ['image/*'], maxSize: 2000000 },
    ]);
  });

  it('rejects an image blob over maxSize or of a type outside accept', () => {
    assert.equal(
      failure(post({ embed: imageEmbed(blob({ size: 2000001 })) })),
      'Record/embed/images/0/image must not be larger than 2000000 bytes (blob is 2000001 bytes)',
    );
    assert.equal(
      failure(post({ embed: imageEmbed(blob({ mimeType: 'video/mp4' })) })),
      'Record/embed/images/0/image has MIME type video/mp4, which is not one of image/*',
    );
  });

  it('rejects a malformed blob ref', () => {
    assert.equal(failure(post({ embed: imageEmbed(blob({ ref: { $link: 'bafy-nope' } })) })), 'Record/embed/images/0/image is not a valid blob: ref is not a valid CID');
    assert.equal(failure(post({ embed: imageEmbed(blob({ size: -1 })) })), 'Record/embed/images/0/image is not a valid blob: size must be a non-negative integer');
    assert.equal(failure(post({ embed: imageEmbed({ cid: IMAGE_CID, mimeType: 'image/jpeg' }) })), 'Record/embed/images/0/image should be a blob ref');
  });

  it('finds blobs in a record-with-media embed through two unions', () => {
    const strongRef = { uri: 'at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a', cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' };
    const embed = { $type: 'app.bsky.embed.recordWithMedia', record: { $type: 'app.bsky.embed.record', record: strongRef }, media: imageEmbed(blob()) };
    const res = lexicons.validateRecord(POST, post({ embed }));
    assert.ok(res.success, res.success ? '' : res.message);
    assert.equal(res.blobs[0].path, 'embed/media/images/0/image');
    assert.equal(res.blobs[0].maxSize, 2000000);
    const badUri = { ...embed, record: { $type: 'app.bsky.embed.record', record: { ...strongRef, uri: 'at://did:plc:abc/app.bsky.feed.post/' } } };
    assert.equal(failure(post({ embed: badUri })), 'Record/embed/record/record/uri must be a valid at-uri');
  });

  it('lets an unknown embed type through the open union, reporting its blob without constraints', () => {
    const embed = { $type: 'com.example.embed.audio', track: blob({ mimeType: 'audio/ogg' }) };
    const res = lexicons.validateRecord(POST, post({ embed }));
    assert.ok(res.success, res.success ? '' : res.message);
    assert.deepEqual(res.blobs, [{ path: 'embed/track', cid: IMAGE_CID, mimeType: 'audio/ogg', size: 123456 }]);
  });

  it('rejects a record whose $type is another collection, or missing', () => {
    assert.equal(failure(post({ $type: 'app.bsky.feed.like' })), 'Record/$type must be app.bsky.feed.post, not app.bsky.feed.like');
    assert.equal(failure({ text: 'hi', createdAt: '2024-05-01T12:34:56.789Z' }), 'Record/$type must be app.bsky.feed.post');
  });

  it('rejects floats anywhere, even in fields the schema does not declare', () => {
    assert.equal(failure(post({ extra: { score: 0.5 } })), 'Record/extra/score must be an integer: the data model has no floats and no integers beyond 2^53');
  });
});
