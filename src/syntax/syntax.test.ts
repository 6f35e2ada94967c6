// Cases the interop vectors do not pin down: exact length limits, calendar edges, parsing,
// and that hostile input is rejected in bounded time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatValidators,
  isStringFormat,
  isValidAtUri,
  isValidCidString,
  isValidDatetime,
  isValidDid,
  isValidHandle,
  isValidLanguage,
  isValidNsid,
  isValidRecordKey,
  isValidTid,
  isValidUri,
  normalizeHandle,
  parseAtUri,
} from './index.ts';

describe('identifier length limits', () => {
  it('accepts a DID of exactly 2048 characters and rejects 2049', () => {
    const did = (n: number) => 'did:web:' + 'a'.repeat(n - 8);
    assert.equal(isValidDid(did(2048)), true);
    assert.equal(isValidDid(did(2049)), false);
  });

  it('accepts a handle of exactly 253 characters and rejects 254', () => {
    const label = 'a'.repeat(61);
    const h253 = [label, label, label, label].join('.') + '.com' + '.b'; // 4*61+3 + 4 + 2 = 253
    assert.equal(h253.length, 253);
    assert.equal(isValidHandle(h253), true);
    assert.equal(isValidHandle('a' + h253), false);
  });

  it('accepts a record key of 512 characters and rejects 513', () => {
    assert.equal(isValidRecordKey('k'.repeat(512)), true);
    assert.equal(isValidRecordKey('k'.repeat(513)), false);
    assert.equal(isValidRecordKey(''), false);
  });

  it('rejects an NSID longer than 317 characters and a name segment over 63', () => {
    const authority = Array.from({ length: 38 }, () => 'abcdefg').join('.');
    assert.equal(isValidNsid(`${authority}.x`), true);
    const tooLong = `${authority}.${'x'.repeat(317 - authority.length)}`;
    assert.equal(tooLong.length, 318);
    assert.equal(isValidNsid(tooLong), false);
    assert.equal(isValidNsid(`com.example.${'a'.repeat(63)}`), true);
    assert.equal(isValidNsid(`com.example.${'a'.repeat(64)}`), false);
  });

  it('caps at-uri and uri at 8 KB', () => {
    const base = 'at://did:plc:abc/com.example.thing/';
    assert.equal(isValidAtUri(base + 'k'.repeat(512)), true);
    const longDid = 'did:web:' + 'a'.repeat(2040);
    assert.equal(isValidAtUri(`at://${longDid}`), true);
    assert.equal(isValidUri('https://x/' + 'a'.repeat(8192 - 10)), true);
    assert.equal(isValidUri('https://x/' + 'a'.repeat(8192 - 9)), false);
  });
});

describe('handles', () => {
  it('normalizes a handle to lowercase', () => {
    assert.equal(normalizeHandle('Alice.Example.COM'), 'alice.example.com');
  });

  it('rejects non-ASCII letters that lowercase to ASCII', () => {
    // U+212A KELVIN SIGN lowercases to "k"; it must not sneak in before normalization.
    assert.equal(isValidHandle('\u212Aelvin.test'), false);
  });
});

describe('parseAtUri', () => {
  it('splits an at-uri into authority, collection and record key', () => {
    assert.deepEqual(parseAtUri('at://did:plc:abc123/app.bsky.feed.post/3jzfcijpj2z2a'), {
      authority: 'did:plc:abc123',
      collection: 'app.bsky.feed.post',
      rkey: '3jzfcijpj2z2a',
    });
    assert.deepEqual(parseAtUri('at://alice.test/app.bsky.feed.post'), { authority: 'alice.test', collection: 'app.bsky.feed.post' });
    assert.deepEqual(parseAtUri('at://alice.test'), { authority: 'alice.test' });
  });

  it('returns undefined for a fragment, a query or a fourth segment', () => {
    assert.equal(parseAtUri('at://alice.test/app.bsky.feed.post/abc#frag'), undefined);
    assert.equal(parseAtUri('at://alice.test/app.bsky.feed.post/abc?x=1'), undefined);
    assert.equal(parseAtUri('at://alice.test/app.bsky.feed.post/abc/def'), undefined);
  });
});

describe('datetimes', () => {
  it('knows the length of every month, including leap years', () => {
    assert.equal(isValidDatetime('2024-02-29T12:00:00Z'), true);
    assert.equal(isValidDatetime('2023-02-29T12:00:00Z'), false);
    assert.equal(isValidDatetime('2000-02-29T12:00:00Z'), true);
    assert.equal(isValidDatetime('1900-02-29T12:00:00Z'), false);
    assert.equal(isValidDatetime('2023-04-31T12:00:00Z'), false);
    assert.equal(isValidDatetime('2023-12-31T23:59:59.999Z'), true);
  });

  it('rejects a leap second and out-of-range offsets', () => {
    assert.equal(isValidDatetime('2016-12-31T23:59:60Z'), false);
    assert.equal(isValidDatetime('2020-01-01T00:00:00+24:00'), false);
    assert.equal(isValidDatetime('2020-01-01T00:00:00+05:60'), false);
    assert.equal(isValidDatetime('2020-01-01T00:00:00+14:00'), true);
  });

  it('accepts year zero unless the offset moves it before the start of the year', () => {
    assert.equal(isValidDatetime('0000-01-01T00:00:00-01:00'), true);
    assert.equal(isValidDatetime('0000-01-01T01:00:00+01:00'), true);
    assert.equal(isValidDatetime('0000-01-01T00:59:59+01:00'), false);
    assert.equal(isValidDatetime('0000-03-01T00:00:00+01:00'), true);
  });
});

describe('language tags', () => {
  it('requires a lowercase primary subtag but allows any case elsewhere', () => {
    assert.equal(isValidLanguage('en-us'), true);
    assert.equal(isValidLanguage('zh-hant-TW'), true);
    assert.equal(isValidLanguage('En'), false);
    assert.equal(isValidLanguage('x-Whatever'), true);
  });

  it('accepts extended language subtags and rejects an empty private use', () => {
    assert.equal(isValidLanguage('zh-yue-HK'), true);
    assert.equal(isValidLanguage('en-x'), false);
    assert.equal(isValidLanguage('en-a'), false);
  });

  it('ignores repetition inside the private use part', () => {
    assert.equal(isValidLanguage('en-x-a-a'), true);
  });
});

describe('uris and cids', () => {
  it('accepts any scheme and an IRI, but no control characters', () => {
    assert.equal(isValidUri('ipfs://bafy'), true);
    assert.equal(isValidUri('https://例え.jp/パス'), true);
    assert.equal(isValidUri('https://example.com/\u0000'), false);
    assert.equal(isValidUri('https://example.com/\u2028'), false);
    assert.equal(isValidUri('1http://example.com'), false);
  });

  it('rejects a CIDv0 but accepts a CIDv1 string', () => {
    assert.equal(isValidCidString('bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'), true);
    assert.equal(isValidCidString('QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR'), false);
  });
});

describe('formatValidators', () => {
  it('has one validator for each of the eleven Lexicon string formats', () => {
    assert.deepEqual(Object.keys(formatValidators).sort(), [
      'at-identifier', 'at-uri', 'cid', 'datetime', 'did', 'handle', 'language', 'nsid', 'record-key', 'tid', 'uri',
    ]);
    assert.equal(formatValidators.tid('3jzfcijpj2z2a'), isValidTid('3jzfcijpj2z2a'));
    assert.equal(isStringFormat('at-uri'), true);
    assert.equal(isStringFormat('toString'), false);
  });

  // No wall-clock bound here (benchmarks, not timed tests): under other suites' load the 22 calls
  // took 54 ms once. A pattern that backtracked on these inputs would hang the test instead.
  it('rejects megabyte-long hostile strings', () => {
    const huge = 'a'.repeat(1 << 20);
    for (const validate of Object.values(formatValidators)) {
      assert.equal(validate(huge), false);
      assert.equal(validate('did:' + huge), false);
    }
  });
});
