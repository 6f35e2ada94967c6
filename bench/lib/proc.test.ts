import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clockTicksPerSecond, parseIoCount, parseStatCpuTicks, parseStatusKb, sampleProcess } from './proc.ts';

test('parseStatCpuTicks adds utime and stime, counting fields after the command name', () => {
  // A command name with spaces and a parenthesis must not shift the fields.
  const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 5000 0 0 0 731 129 0 0 20 0 11 0 123 1000 200 18446744073709551615';
  assert.equal(parseStatCpuTicks(stat), 731 + 129);
});

test('parseStatCpuTicks rejects text that is not a stat line', () => {
  assert.throws(() => parseStatCpuTicks('no parentheses here'), /no command name/);
  assert.throws(() => parseStatCpuTicks('1 (x) S 1'), /no utime/);
});

test('parseStatusKb reads a kB line as bytes and gives 0 for a missing key', () => {
  const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
  assert.equal(parseStatusKb(status, 'VmRSS'), 102400 * 1024);
  assert.equal(parseStatusKb(status, 'VmHWM'), 204800 * 1024);
  assert.equal(parseStatusKb(status, 'VmSwap'), 0);
});

test('sampleProcess sees this process spend CPU, and nothing for a pid that does not exist', () => {
  const before = sampleProcess(process.pid);
  assert.ok(before);
  // Spin until this process has spent 60 ms of CPU (not 60 ms of wall time: on a busy machine
  // the process may get a fraction of that).
  const start = process.cpuUsage();
  let x = 0;
  while (process.cpuUsage(start).user + process.cpuUsage(start).system < 60_000) {
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
  }
  const after = sampleProcess(process.pid);
  assert.ok(after && x > 0);
  // 60 ms of CPU, measured in ticks of 1/CLK_TCK s: at least a few ticks must have passed.
  assert.ok(after.cpuUs - before.cpuUs >= 2 * (1e6 / clockTicksPerSecond()), `cpu grew by ${after.cpuUs - before.cpuUs} µs`);
  assert.ok(after.rssBytes > 1024 * 1024 && after.peakRssBytes >= after.rssBytes);
  assert.equal(sampleProcess(2 ** 22 + 12345), undefined);
});

test('parseIoCount reads a count of /proc/<pid>/io and gives undefined for a missing key', () => {
  const io = 'rchar: 4096\nwchar: 100\nsyscr: 12\nsyscw: 7\nread_bytes: 0\n';
  assert.equal(parseIoCount(io, 'syscr'), 12);
  assert.equal(parseIoCount(io, 'syscw'), 7);
  assert.equal(parseIoCount(io, 'cancelled_write_bytes'), undefined);
});
