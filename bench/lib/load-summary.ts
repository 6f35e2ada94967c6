// Reads load.mjs JSON results and compares two servers workload by workload. Every ratio is oriented
// so that above 1 means Squall does better (more per second, fewer CPU ms, lower latency).
import { median, ratio } from './stats.ts';
import { formatNumber, formatRatio, markdownTable } from './table.ts';

/** The part of a load.mjs JSON result this module reads (the file holds more). */
export interface LoadRun {
  workloads?: Record<string, Record<string, unknown> | undefined>;
  /** RSS when load.mjs started (right after the server's start-up: idle) and when it ended. */
  server_rss_start_mb?: number;
  server_rss_end_mb?: number;
}

interface Row {
  label: string;
  unit: string;
  workload: string;
  /** Field holding the figure; `seconds` rows are better when lower. */
  key: string;
  lowerIsBetter?: boolean;
  /** Field holding the latency shown next to the figure (p99_ms when absent, none when null). */
  p99Key?: string | null;
  /** Server CPU ms per operation, when the entry has no server_cpu_ms_per_op of its own. */
  cpuPerOp?: (entry: Record<string, unknown>) => number | undefined;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

// The same rows as summarize.mjs, plus getRepo and the firehose, whose figures live under other names.
const ROWS: readonly Row[] = [
  { label: 'createAccount', unit: 'accounts/s', workload: 'createAccount', key: 'ops_per_s' },
  { label: 'createRecord, distinct accounts', unit: 'records/s', workload: 'createRecord_distinct', key: 'ops_per_s' },
  { label: 'createRecord, one account', unit: 'records/s', workload: 'createRecord_one_account', key: 'ops_per_s' },
  { label: 'getRecord', unit: 'req/s', workload: 'getRecord', key: 'ops_per_s' },
  { label: 'listRecords limit 50', unit: 'records/s', workload: 'listRecords', key: 'records_per_s' },
  // load.mjs divides records by the phase's wall time rounded to 10 ms (a 20% step for Squall's
  // 0.04-0.05 s of applyWrites), calls by the exact one: the same ratio, measured finely
  { label: 'listRecords limit 50, pages', unit: 'pages/s', workload: 'listRecords', key: 'ops_per_s' },
  { label: 'applyWrites 10 creates', unit: 'records/s', workload: 'applyWrites', key: 'records_per_s' },
  { label: 'applyWrites 10 creates, calls', unit: 'calls/s', workload: 'applyWrites', key: 'ops_per_s' },
  { label: 'uploadBlob 100 KB', unit: 'MB/s', workload: 'uploadBlob_100k', key: 'mb_per_s' },
  { label: 'uploadBlob 1 MB', unit: 'MB/s', workload: 'uploadBlob_1m', key: 'mb_per_s' },
  { label: 'getBlob 100 KB', unit: 'MB/s', workload: 'getBlob_100k', key: 'mb_per_s' },
  { label: 'getBlob 1 MB', unit: 'MB/s', workload: 'getBlob_1m', key: 'mb_per_s' },
  { label: 'populate: applyWrites 200 creates', unit: 'records/s', workload: 'populate_applyWrites', key: 'records_per_s' },
  {
    label: 'sync.getRepo',
    unit: 'seconds',
    workload: 'getRepo',
    key: 'median_s',
    lowerIsBetter: true,
    p99Key: null,
    cpuPerOp: (e) => {
      const cpu = num(e.server_cpu_s);
      const runs = Array.isArray(e.runs) ? e.runs.length : 0;
      return cpu !== undefined && runs > 0 ? (cpu * 1000) / runs : undefined;
    },
  },
  {
    label: 'firehose: createRecord while subscribed',
    unit: 'records/s',
    workload: 'firehose',
    key: 'write_ops_per_s',
    p99Key: 'write_p99_ms',
    cpuPerOp: (e) => {
      const cpu = num(e.server_cpu_s);
      const writes = num(e.writes_ok);
      return cpu !== undefined && writes ? (cpu * 1000) / writes : undefined;
    },
  },
  { label: 'firehose: delivery lag p99', unit: 'ms', workload: 'firehose', key: 'delivery_lag_p99_ms', lowerIsBetter: true, p99Key: null },
];

export interface RowFigures {
  value?: number;
  cpuMsPerOp?: number;
  p99Ms?: number;
  /** How many runs had the figure. */
  runs: number;
}

/** Medians over runs of one row's figure, CPU per op and p99 latency. */
export function rowFigures(runs: readonly LoadRun[], row: Row): RowFigures {
  const entries = runs.map((r) => r.workloads?.[row.workload]).filter((e): e is Record<string, unknown> => !!e && !e.skipped);
  const withValue = entries.filter((e) => num(e[row.key]) !== undefined);
  return {
    value: median(withValue.map((e) => num(e[row.key]))),
    cpuMsPerOp: median(withValue.map((e) => (row.cpuPerOp ? row.cpuPerOp(e) : num(e.server_cpu_ms_per_op)))),
    p99Ms: row.p99Key === null ? undefined : median(withValue.map((e) => num(e[row.p99Key ?? 'p99_ms']))),
    runs: withValue.length,
  };
}

// Server memory, MB: idle after start-up, at the end of the run, and the peak sampled during it.
const MEMORY_ROWS: readonly { label: string; of: (run: LoadRun) => number | undefined }[] = [
  { label: 'server RSS idle, after start-up', of: (r) => num(r.server_rss_start_mb) },
  { label: 'server RSS at the end of the run', of: (r) => num(r.server_rss_end_mb) },
  {
    label: 'server RSS peak during the run',
    of: (r) => {
      const peaks = Object.values(r.workloads ?? {}).map((w) => num(w?.server_rss_max_mb)).filter((v): v is number => v !== undefined);
      return peaks.length ? Math.max(...peaks) : undefined;
    },
  },
];

/** The Markdown ratio table: Squall's and the reference's medians side by side, with Squall's advantage. */
export function compareRuns(squall: readonly LoadRun[], reference: readonly LoadRun[]): string {
  const rows = [];
  for (const row of ROWS) {
    const s = rowFigures(squall, row);
    const r = rowFigures(reference, row);
    if (s.runs === 0 && r.runs === 0) continue;
    const digits = row.unit === 'seconds' ? 3 : 1;
    rows.push([
      row.label,
      row.lowerIsBetter ? `${row.unit} (lower is better)` : row.unit,
      formatNumber(s.value, digits),
      formatNumber(r.value, digits),
      formatRatio(row.lowerIsBetter ? ratio(r.value, s.value) : ratio(s.value, r.value)),
      formatNumber(s.cpuMsPerOp, 2),
      formatNumber(r.cpuMsPerOp, 2),
      formatRatio(ratio(r.cpuMsPerOp, s.cpuMsPerOp)),
      formatNumber(s.p99Ms, 1),
      formatNumber(r.p99Ms, 1),
      formatRatio(ratio(r.p99Ms, s.p99Ms)),
      `${s.runs} / ${r.runs}`,
    ]);
  }
  for (const memory of MEMORY_ROWS) {
    const s = squall.map(memory.of).filter((v) => v !== undefined);
    const r = reference.map(memory.of).filter((v) => v !== undefined);
    if (s.length === 0 && r.length === 0) continue;
    const [sm, rm] = [median(s), median(r)];
    rows.push([memory.label, 'MB (lower is better)', formatNumber(sm, 1), formatNumber(rm, 1), formatRatio(ratio(rm, sm)), '-', '-', '-', '-', '-', '-', `${s.length} / ${r.length}`]);
  }
  return markdownTable(
    ['workload', 'figure', 'Squall', 'reference', 'Squall advantage', 'Squall CPU ms/op', 'ref CPU ms/op', 'CPU advantage', 'Squall p99 ms', 'ref p99 ms', 'p99 advantage', 'runs (S / ref)'],
    rows,
    [2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
}

/** Problems worth a line in the report: workloads with failed requests, skipped or capped phases. */
export function describeProblems(run: LoadRun): string[] {
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(run.workloads ?? {})) {
    if (!entry) continue;
    if (typeof entry.skipped === 'string') problems.push(`${name}: skipped (${entry.skipped})`);
    const errors = num(entry.errors) ?? 0;
    if (errors > 0) {
      const sample = Array.isArray(entry.error_samples) ? String(entry.error_samples[0] ?? '') : '';
      problems.push(`${name}: ${errors} failed request(s)${sample ? `, e.g. ${sample.slice(0, 200)}` : ''}`);
    }
    if (entry.stopped_early === true) problems.push(`${name}: capped by --max-seconds (throughput still valid, fewer operations)`);
    if (entry.all_frames_seen === false) problems.push(`${name}: not every write showed up on the firehose`);
  }
  return problems;
}

/**
 * Several load.mjs results for one server instance (one per workload, in order) as one result, as if
 * from one run: the first part's header (its start RSS is the idle one), the last part's end RSS.
 */
export function mergeRuns(parts: readonly LoadRun[]): LoadRun {
  const merged: LoadRun = { ...parts[0], server_rss_end_mb: parts.at(-1)?.server_rss_end_mb, workloads: {} };
  for (const part of parts) Object.assign(merged.workloads!, part.workloads);
  return merged;
}
