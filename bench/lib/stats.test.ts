import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, percentile, ratio } from './stats.ts';

test('median takes the middle value, averages the middle two, and ignores missing values', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([undefined, 5, null, Number.NaN, 1, 3]), 3);
  assert.equal(median([]), undefined);
});

test('percentile uses the nearest rank of an ascending array', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([], 50), undefined);
});

test('ratio is undefined unless both sides are positive numbers', () => {
  assert.equal(ratio(10, 4), 2.5);
  assert.equal(ratio(10, 0), undefined);
  assert.equal(ratio(undefined, 4), undefined);
  assert.equal(ratio(0, 4), undefined);
});
