import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatNumber, formatRatio, markdownTable } from './table.ts';

test('markdownTable aligns the chosen columns right and escapes pipes in cells', () => {
  const text = markdownTable(['name', 'req/s'], [['a|b', 1200], ['c', undefined]], [1]);
  assert.equal(text, ['| name | req/s |', '|---|---:|', '| a\\|b | 1200 |', '| c | - |'].join('\n'));
});

test('formatNumber groups thousands and fixes the decimals; missing values print as a dash', () => {
  assert.equal(formatNumber(12345.678), '12,346');
  assert.equal(formatNumber(12.345, 1), '12.3');
  assert.equal(formatNumber(undefined), '-');
  assert.equal(formatNumber(Number.NaN, 2), '-');
});

test('formatRatio prints two decimals and a times sign', () => {
  assert.equal(formatRatio(5.126), '5.13×');
  assert.equal(formatRatio(undefined), '-');
});
