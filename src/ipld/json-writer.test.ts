import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonBytes, JsonWriter } from './json-writer.ts';

const STRINGS = [
  '',
  'text',
  'at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a',
  'a "quoted" word',
  'back\\slash',
  'line\nbreak, tab\t, nul\u0000, bell\u0007, delete\u007f',
  'café',
  'emoji 🦋 and CJK 漢字',
  'lone \ud83d surrogate',
  'x'.repeat(47) + 'é',
  'y'.repeat(300),
];

/** A writer whose buffer starts tiny, so every method has to grow it. */
const tiny = () => new JsonWriter(1);

describe('JsonWriter', () => {
  it('writes a string literal exactly as JSON.stringify does', () => {
    for (const s of STRINGS) {
      const out = tiny();
      out.string(s);
      assert.equal(out.result().toString('utf8'), JSON.stringify(s), JSON.stringify(s));
    }
  });

  it('writes the inside of a literal, after bytes that opened it, exactly as JSON.stringify does', () => {
    for (const s of STRINGS) {
      const out = tiny();
      out.bytes(jsonBytes('{"k":"pre/'));
      out.stringContent(s);
      out.raw('"}');
      assert.deepEqual(JSON.parse(out.result().toString('utf8')), { k: `pre/${s}` }, JSON.stringify(s));
      assert.equal(out.result().toString('utf8'), `{"k":${JSON.stringify(`pre/${s}`)}}`);
    }
  });

  it('copies raw text as UTF-8, short or long, ASCII or not', () => {
    for (const text of ['{"a":', '12345', '"é"', `"${'z'.repeat(47)}é"`, `"${'w'.repeat(200)}"`, '"🦋"']) {
      const out = tiny();
      out.raw('[');
      out.raw(text);
      out.raw(']');
      assert.equal(out.result().toString('utf8'), `[${text}]`);
    }
  });

  it('appends bytes and single bytes where the last write ended', () => {
    const out = tiny();
    out.bytes(jsonBytes('{"n":'));
    out.raw('1');
    out.byte(0x7d);
    assert.equal(out.result().toString('utf8'), '{"n":1}');
  });
});
