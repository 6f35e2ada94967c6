import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compareTids, InvalidTidError, isTid, nextTid, nextTidAfter, TidClock, tidFromParts, tidToClockId, tidToTimestampMicros } from './tid.ts';

const lines = (name: string) =>
  readFileSync(new URL(`../../../shared/interop/syntax/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));

describe('isTid against the interop syntax vectors', () => {
  for (const tid of lines('tid_syntax_valid.txt')) it(`accepts ${JSON.stringify(tid)}`, () => assert.ok(isTid(tid)));
  for (const tid of lines('tid_syntax_invalid.txt')) it(`rejects ${JSON.stringify(tid)}`, () => assert.ok(!isTid(tid)));
});

describe('TID encoding', () => {
  it('puts the timestamp in the first 11 characters and the clock id in the last 2', () => {
    assert.equal(tidFromParts(0, 0), '2222222222222');
    assert.equal(tidFromParts(0, 1023), '22222222222zz');
    // 53 timestamp bits leave the top two bits of the first character clear.
    assert.equal(tidFromParts(2 ** 53 - 1, 1023), 'bzzzzzzzzzzzz');
    const tid = tidFromParts(1_700_000_000_123_456, 77);
    assert.equal(tidToTimestampMicros(tid), 1_700_000_000_123_456);
    assert.equal(tidToClockId(tid), 77);
    assert.ok(isTid(tid));
  });

  it('agrees with the 64-bit integer layout (timestamp << 10 | clock id) in base32-sortable', () => {
    const alphabet = '234567abcdefghijklmnopqrstuvwxyz';
    for (const [ts, clock] of [[1, 0], [1_732_000_000_000_000, 513], [123456789, 1]]) {
      let n = (BigInt(ts) << 10n) | BigInt(clock);
      let s = '';
      for (let i = 0; i < 13; i++) {
        s = alphabet[Number(n & 31n)] + s;
        n >>= 5n;
      }
      assert.equal(tidFromParts(ts, clock), s);
    }
  });

  it('sorts as strings in time order', () => {
    const a = tidFromParts(1000, 1023);
    const b = tidFromParts(1001, 0);
    assert.equal(compareTids(a, b), -1);
    assert.equal(compareTids(b, a), 1);
    assert.equal(compareTids(a, a), 0);
  });

  it('rejects out-of-range parts and non-TIDs', () => {
    assert.throws(() => tidFromParts(-1, 0), InvalidTidError);
    assert.throws(() => tidFromParts(2 ** 53, 0), InvalidTidError);
    assert.throws(() => tidFromParts(1.5, 0), InvalidTidError);
    assert.throws(() => tidFromParts(0, 1024), InvalidTidError);
    assert.throws(() => tidToTimestampMicros('3jzfcijpj2z2a-'), InvalidTidError);
    assert.throws(() => new TidClock({ clockId: -1 }), InvalidTidError);
  });
});

describe('TidClock', () => {
  it('never repeats or goes backwards when the clock stands still or steps back', () => {
    const times = [5_000_000, 5_000_000, 5_000_000, 4_000_000, 4_999_999, 5_000_010, 1, 5_000_011];
    let i = 0;
    const clock = new TidClock({ now: () => times[Math.min(i++, times.length - 1)], clockId: 9 });
    const tids = times.map(() => clock.next());
    for (let k = 1; k < tids.length; k++) assert.ok(tids[k] > tids[k - 1], `${tids[k]} > ${tids[k - 1]}`);
    assert.deepEqual(tids.map(tidToTimestampMicros), [5_000_000, 5_000_001, 5_000_002, 5_000_003, 5_000_004, 5_000_010, 5_000_011, 5_000_012]);
    assert.ok(tids.every((t) => tidToClockId(t) === 9));
  });

  it('nextAfter is strictly greater than a previous rev from the future or with a larger clock id', () => {
    const clock = new TidClock({ now: () => 1_000_000, clockId: 0 });
    const future = tidFromParts(9_000_000, 1023);
    const after = clock.nextAfter(future);
    assert.ok(after > future);
    assert.equal(tidToTimestampMicros(after), 9_000_001);
    // And the clock stays monotonic from there on.
    assert.ok(clock.next() > after);
    assert.ok(clock.nextAfter(null) > after);
  });

  it('nextAfter steps past a previous rev made in the same microsecond by a larger clock id', () => {
    const clock = new TidClock({ now: () => 1_000_000, clockId: 0 });
    const prev = tidFromParts(1_000_000, 1023);
    const next = clock.nextAfter(prev);
    assert.ok(next > prev);
    assert.equal(tidToTimestampMicros(next), 1_000_001);
  });

  it('picks a random clock id per instance by default', () => {
    const ids = new Set(Array.from({ length: 50 }, () => new TidClock().clockId));
    assert.ok(ids.size > 10);
    for (const id of ids) assert.ok(id >= 0 && id < 1024);
  });
});

describe('nextTid and nextTidAfter', () => {
  it('produce 10,000 strictly increasing valid TIDs near the current time', () => {
    let prev = nextTid();
    for (let i = 0; i < 10_000; i++) {
      const tid = i % 2 === 0 ? nextTid() : nextTidAfter(prev);
      assert.ok(tid > prev);
      prev = tid;
    }
    assert.ok(isTid(prev));
    assert.ok(Math.abs(tidToTimestampMicros(prev) / 1000 - Date.now()) < 60_000);
  });
});
