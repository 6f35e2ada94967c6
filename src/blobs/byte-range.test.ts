import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etagMatches, ifRangeAllows, parseRangeHeader } from './byte-range.ts';

describe('parseRangeHeader', () => {
  const cases: Array<[string | undefined, number, ReturnType<typeof parseRangeHeader>]> = [
    [undefined, 100, { kind: 'full' }],
    ['bytes=0-9', 100, { kind: 'partial', start: 0, end: 9 }],
    ['bytes=10-', 100, { kind: 'partial', start: 10, end: 99 }],
    ['bytes=-10', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-1000', 100, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=50-5000', 100, { kind: 'partial', start: 50, end: 99 }],
    ['bytes=99-99', 100, { kind: 'partial', start: 99, end: 99 }],
    ['Bytes = 1 - 2', 100, { kind: 'partial', start: 1, end: 2 }],
    ['bytes=0-99999999999999999999', 100, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=100-200', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'unsatisfiable' }],
    ['bytes=9-1', 100, { kind: 'full' }],
    ['bytes=0-1,5-6', 100, { kind: 'full' }],
    ['items=0-1', 100, { kind: 'full' }],
    ['bytes=-', 100, { kind: 'full' }],
    ['bytes=a-b', 100, { kind: 'full' }],
    ['bytes=0x1-2', 100, { kind: 'full' }],
  ];
  for (const [header, size, expected] of cases) {
    it(`reads ${JSON.stringify(header)} on ${size} bytes as ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(parseRangeHeader(header, size), expected);
    });
  }
});

describe('etagMatches and ifRangeAllows', () => {
  const etag = '"bafkreiabc"';
  it('matches If-None-Match weakly, in lists, and for *', () => {
    assert.equal(etagMatches('"bafkreiabc"', etag), true);
    assert.equal(etagMatches('W/"bafkreiabc"', etag), true);
    assert.equal(etagMatches('"x", "bafkreiabc"', etag), true);
    assert.equal(etagMatches('*', etag), true);
    assert.equal(etagMatches('"bafkreiabd"', etag), false);
    assert.equal(etagMatches(undefined, etag), false);
  });

  it('lets If-Range through only for the exact strong tag', () => {
    assert.equal(ifRangeAllows(undefined, etag), true);
    assert.equal(ifRangeAllows('"bafkreiabc"', etag), true);
    assert.equal(ifRangeAllows('W/"bafkreiabc"', etag), false);
    assert.equal(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', etag), false);
  });
});
