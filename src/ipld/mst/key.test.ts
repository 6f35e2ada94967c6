import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { commonPrefixLength, keyHeight, keyProblem, MAX_KEY_LENGTH } from './key.ts';

const interop = (file: string) => readFileSync(new URL(`../../../../shared/interop/mst/${file}`, import.meta.url), 'utf8');

describe('MST keys', () => {
  const heights = JSON.parse(interop('key_heights.json')) as Array<{ key: string; height: number }>;
  for (const { key, height } of heights) {
    it(`the key ${JSON.stringify(key)} has height ${height} (interop key_heights.json)`, () => {
      assert.equal(keyHeight(key), height);
    });
  }

  const prefixes = JSON.parse(interop('common_prefix.json')) as Array<{ left: string; right: string; len: number }>;
  for (const { left, right, len } of prefixes) {
    it(`${JSON.stringify(left)} and ${JSON.stringify(right)} share ${len} leading bytes (interop common_prefix.json)`, () => {
      assert.equal(commonPrefixLength(left, right), len);
    });
  }

  it('every example key has the height written after its letter (interop example_keys.txt)', () => {
    const keys = interop('example_keys.txt')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    assert.equal(keys.length, 156);
    for (const key of keys) {
      assert.equal(keyHeight(key), Number(key[1]), key);
      assert.equal(keyProblem(key), null, key);
    }
  });

  it('accepts repo paths and rejects what cannot be one', () => {
    assert.equal(keyProblem('app.bsky.feed.post/3jzfcijpj2z2a'), null);
    assert.equal(keyProblem('com.example.thing/self:~_-.x'), null);
    for (const bad of ['', 'nocollection', '/rkey', 'coll/', 'a/b/c', 'coll/ké', 'coll/a b', 'coll/a\u0000', 'x/' + 'a'.repeat(MAX_KEY_LENGTH)]) {
      assert.notEqual(keyProblem(bad), null, JSON.stringify(bad));
    }
  });
});
