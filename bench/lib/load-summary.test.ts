import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareRuns, describeProblems, mergeRuns, type LoadRun } from './load-summary.ts';

const run = (records: number, cpu: number, p99: number, getRepoS: number): LoadRun => ({
  workloads: {
    createRecord_distinct: { ok: 400, errors: 0, ops_per_s: records, p99_ms: p99, server_cpu_ms_per_op: cpu },
    getRepo: { runs: [{}, {}, {}], median_s: getRepoS, server_cpu_s: getRepoS * 3 },
  },
});

function rowOf(table: string, label: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${label} |`));
  assert.ok(line, `no row ${label} in\n${table}`);
  return line.slice(2, -2).split(' | ');
}

test('compareRuns puts the medians side by side with Squall advantage above 1 when Squall is better', () => {
  const squall = [run(1000, 0.5, 10, 0.2), run(1200, 0.4, 12, 0.25), run(800, 0.6, 30, 0.3)];
  const reference = [run(200, 2, 40, 1), run(250, 2.2, 50, 1.2), run(150, 1.8, 60, 0.8)];
  const table = compareRuns(squall, reference);
  const row = rowOf(table, 'createRecord, distinct accounts');
  assert.deepEqual(row, ['createRecord, distinct accounts', 'records/s', '1,000.0', '200.0', '5.00×', '0.50', '2.00', '4.00×', '12.0', '50.0', '4.17×', '3 / 3']);
  // Lower is better for seconds: the advantage is reference ÷ Squall; CPU per getRepo is CPU s ÷ runs.
  const getRepo = rowOf(table, 'sync.getRepo');
  assert.deepEqual(getRepo.slice(1, 8), ['seconds (lower is better)', '0.250', '1.000', '4.00×', '250.00', '1,000.00', '4.00×']);
});

test('compareRuns leaves out workloads neither server ran and dashes figures only one side has', () => {
  const squall = [{ workloads: { getRecord: { ops_per_s: 900, p99_ms: 3, server_cpu_ms_per_op: 0.1 } } }];
  const reference = [{ workloads: { getRecord: { ops_per_s: 300, p99_ms: 9 }, applyWrites: { records_per_s: 50 } } }];
  const table = compareRuns(squall, reference);
  assert.equal(table.includes('createAccount'), false);
  assert.deepEqual(rowOf(table, 'getRecord').slice(2, 8), ['900.0', '300.0', '3.00×', '0.10', '-', '-']);
  assert.deepEqual(rowOf(table, 'applyWrites 10 creates').slice(2, 5), ['-', '50.0', '-']);
});

test('compareRuns also compares applyWrites by calls/s, which load.mjs measures over the unrounded wall time', () => {
  const squall = [{ workloads: { applyWrites: { records_per_s: 10000, ops_per_s: 934.5, server_cpu_ms_per_op: 1.1 } } }];
  const reference = [{ workloads: { applyWrites: { records_per_s: 1000, ops_per_s: 98.7, server_cpu_ms_per_op: 10.5 } } }];
  const table = compareRuns(squall, reference);
  assert.deepEqual(rowOf(table, 'applyWrites 10 creates').slice(1, 5), ['records/s', '10,000.0', '1,000.0', '10.00×']);
  assert.deepEqual(rowOf(table, 'applyWrites 10 creates, calls').slice(1, 5), ['calls/s', '934.5', '98.7', '9.47×']);
});

test('describeProblems names failed requests, skipped and capped phases, and missing firehose frames', () => {
  const problems = describeProblems({
    workloads: {
      createAccount: { errors: 3, error_samples: ['createAccount -> HTTP 500: boom'] },
      getRecord: { errors: 0, stopped_early: true },
      firehose: { skipped: 'no WebSocket client' },
      firehose2: { all_frames_seen: false },
    },
  });
  assert.deepEqual(problems, [
    'createAccount: 3 failed request(s), e.g. createAccount -> HTTP 500: boom',
    'getRecord: capped by --max-seconds (throughput still valid, fewer operations)',
    'firehose: skipped (no WebSocket client)',
    'firehose2: not every write showed up on the firehose',
  ]);
});

test('compareRuns ends with the servers memory: idle, at the end and at the peak, lower being better', () => {
  const squall = [
    { server_rss_start_mb: 100, server_rss_end_mb: 200, workloads: { getRecord: { ops_per_s: 1, server_rss_max_mb: 220 }, listRecords: { records_per_s: 1, server_rss_max_mb: 240 } } },
    { server_rss_start_mb: 110, server_rss_end_mb: 210, workloads: { getRecord: { ops_per_s: 1, server_rss_max_mb: 230 } } },
    { server_rss_start_mb: 120, server_rss_end_mb: 190, workloads: { getRecord: { ops_per_s: 1, server_rss_max_mb: 250 } } },
  ];
  const reference = [{ server_rss_start_mb: 220, server_rss_end_mb: 500, workloads: { getRecord: { ops_per_s: 1, server_rss_max_mb: 480 } } }];
  const table = compareRuns(squall, reference);
  assert.deepEqual(rowOf(table, 'server RSS idle, after start-up').slice(1, 5), ['MB (lower is better)', '110.0', '220.0', '2.00×']);
  assert.deepEqual(rowOf(table, 'server RSS at the end of the run').slice(2, 5), ['200.0', '500.0', '2.50×']);
  assert.deepEqual(rowOf(table, 'server RSS peak during the run').slice(2, 5), ['240.0', '480.0', '2.00×']);
});

test('mergeRuns joins the workloads of per-workload runs, keeps the first run header and the last end RSS', () => {
  const merged = mergeRuns([
    { server_rss_start_mb: 80, server_rss_end_mb: 120, workloads: { createAccount: { ops_per_s: 10 } } },
    { server_rss_start_mb: 95, server_rss_end_mb: 150, workloads: { getRecord: { ops_per_s: 20 } } },
  ]);
  assert.equal(merged.server_rss_start_mb, 80);
  assert.equal(merged.server_rss_end_mb, 150);
  assert.deepEqual(Object.keys(merged.workloads ?? {}), ['createAccount', 'getRecord']);
});
