import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XrpcError } from './errors.ts';
import { buildParamsCoercer } from './params.ts';
import type { LexParamsDef } from './types.ts';

const formats = {
  did: (s: string) => /^did:[a-z]+:[a-zA-Z0-9._:%-]+$/.test(s),
  nsid: (s: string) => /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+\.[a-zA-Z][a-zA-Z0-9]*$/.test(s),
};

const def: LexParamsDef = {
  type: 'params',
  required: ['repo'],
  properties: {
    repo: { type: 'string', format: 'did' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
    reverse: { type: 'boolean' },
    collections: { type: 'array', items: { type: 'string', format: 'nsid' }, maxLength: 3 },
    sort: { type: 'string', enum: ['asc', 'desc'] },
    text: { type: 'string', maxLength: 10, maxGraphemes: 3 },
  },
};

const coerce = buildParamsCoercer(def, formats);
const parse = (qs: string) => coerce(new URLSearchParams(qs));

function rejects(qs: string, pattern: RegExp) {
  assert.throws(
    () => parse(qs),
    (err: unknown) => err instanceof XrpcError && err.status === 400 && err.error === 'InvalidRequest' && pattern.test(err.message),
  );
}

describe('query parameter coercion', () => {
  it('coerces integers and booleans and applies defaults', () => {
    assert.deepEqual(parse('repo=did:plc:abc&reverse=true'), { repo: 'did:plc:abc', limit: 50, reverse: true });
    assert.deepEqual(parse('repo=did:plc:abc&limit=7&reverse=false'), { repo: 'did:plc:abc', limit: 7, reverse: false });
  });

  it('turns repeated parameters into arrays and checks every item', () => {
    assert.deepEqual(parse('repo=did:plc:a&collections=app.bsky.feed.post&collections=app.bsky.feed.like').collections, [
      'app.bsky.feed.post',
      'app.bsky.feed.like',
    ]);
    rejects('repo=did:plc:a&collections=app.bsky.feed.post&collections=nope', /collections.*nsid/);
    rejects('repo=did:plc:a&collections=a.b.c&collections=a.b.d&collections=a.b.e&collections=a.b.f', /at most 3/);
  });

  it('refuses a missing required parameter', () => rejects('limit=3', /"repo"/));
  it('refuses a malformed integer', () => rejects('repo=did:plc:a&limit=1.5', /integer/));
  it('refuses an integer out of range', () => {
    rejects('repo=did:plc:a&limit=0', /at least 1/);
    rejects('repo=did:plc:a&limit=101', /at most 100/);
  });
  it('refuses a boolean that is not true or false', () => rejects('repo=did:plc:a&reverse=yes', /boolean/));
  it('refuses a string of the wrong format', () => rejects('repo=alice', /valid did/));
  it('refuses a value outside an enum', () => rejects('repo=did:plc:a&sort=up', /one of asc, desc/));
  it('refuses a non-array parameter given twice', () => rejects('repo=did:plc:a&repo=did:plc:b', /repeated/));
  it('counts length in bytes and graphemes', () => {
    assert.equal(parse('repo=did:plc:a&text=%F0%9F%91%8D%F0%9F%91%8D').text, '👍👍');
    rejects('repo=did:plc:a&text=%F0%9F%91%8D%F0%9F%91%8D%F0%9F%91%8D', /10 bytes/);
    rejects('repo=did:plc:a&text=abcd', /3 graphemes/);
  });
  it('treats an empty integer or boolean parameter as absent', () => {
    assert.deepEqual(parse('repo=did:plc:a&limit=&reverse='), { repo: 'did:plc:a', limit: 50 });
  });
  it('ignores parameters the Lexicon does not define', () => {
    assert.deepEqual(parse('repo=did:plc:a&other=1'), { repo: 'did:plc:a', limit: 50 });
  });
  it('refuses to build a coercer for an unknown string format', () => {
    assert.throws(() => buildParamsCoercer({ type: 'params', properties: { x: { type: 'string', format: 'nope' } } }, formats), /nope/);
  });
});
