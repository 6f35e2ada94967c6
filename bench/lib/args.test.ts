import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boolFlag, numberFlag, parseArgs, rejectUnknownFlags, UsageError } from './args.ts';

test('parseArgs reads --name value, --name=value, bare flags and positionals', () => {
  const args = parseArgs(['http', '--reps', '3', '--only=a,b', '--skip-reference', '--duration', '2', 'extra']);
  assert.deepEqual(args.positional, ['http', 'extra']);
  assert.deepEqual(Object.fromEntries(args.flags), { reps: '3', only: 'a,b', 'skip-reference': 'true', duration: '2' });
});

test('parseArgs treats everything after -- as positional', () => {
  assert.deepEqual(parseArgs(['--a', '1', '--', '--b']).positional, ['--b']);
});

test('numberFlag falls back when absent and refuses values out of range or not numbers', () => {
  const args = parseArgs(['--reps', '0', '--duration', 'five']);
  assert.equal(numberFlag(args, 'connections', 8, 1), 8);
  assert.throws(() => numberFlag(args, 'reps', 3, 1), UsageError);
  assert.throws(() => numberFlag(args, 'duration', 5), /--duration must be a number/);
});

test('boolFlag and rejectUnknownFlags catch typos instead of running a default benchmark', () => {
  const args = parseArgs(['--skip-refrence', '--together=maybe']);
  assert.throws(() => rejectUnknownFlags(args, ['skip-reference', 'together']), /unknown flag: --skip-refrence/);
  assert.throws(() => boolFlag(args, 'together'), UsageError);
  assert.equal(boolFlag(args, 'absent'), false);
});
