// Issue 3: requests/s and server CPU per request for two cheap XRPC GETs, Squall against the
// reference PDS in the same run, one measured window at a time. See docs/benchmarks.md.
//
//   node --import tsx bench/http.ts [--client http|net] [--connections 8] [--duration 5] [--warmup 1] [--reps 3]
//        [--skip-reference] [--reference-variant node20] [--reference-url URL --reference-pid PID]
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { boolFlag, numberFlag, parseArgs, rejectUnknownFlags, UsageError, type ParsedArgs } from './lib/args.ts';
import { MEASURE_FLAGS, measureEndpoint, measureOptionsFromArgs, type Measurement, type MeasureOptions } from './lib/http-measure.ts';
import { makeRunDir } from './lib/paths.ts';
import { startReferencePds } from './lib/refpds.ts';
import { startSquall } from './lib/squall.ts';
import { median, ratio } from './lib/stats.ts';
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';
import type { Target } from './lib/target.ts';

const ENDPOINTS = [
  { name: 'describeServer', path: '/xrpc/com.atproto.server.describeServer' },
  { name: '_health', path: '/xrpc/_health' },
] as const;

/** Issue 3's aim: Squall serves at least this many times the reference's requests/s. */
const GOAL_RATIO = 5;

type EndpointName = (typeof ENDPOINTS)[number]['name'];

interface ServerResult {
  label: string;
  description?: string;
  /** Why the server could not be measured at all. */
  failure?: string;
  endpoints: Partial<Record<EndpointName, { runs: Measurement[]; failures: string[] }>>;
}

interface Summary {
  requestsPerSecond?: number;
  p50?: number;
  p99?: number;
  cpuUsPerRequest?: number;
  serverCores?: number;
  clientCores?: number;
  non2xx: number;
  errors: number;
  runs: number;
}

function summarize(runs: readonly Measurement[]): Summary {
  return {
    requestsPerSecond: median(runs.map((m) => m.load.requestsPerSecond)),
    p50: median(runs.map((m) => m.load.latencyMs.p50)),
    p99: median(runs.map((m) => m.load.latencyMs.p99)),
    cpuUsPerRequest: median(runs.map((m) => m.serverCpuUsPerRequest)),
    serverCores: median(runs.map((m) => m.serverCpuCores)),
    clientCores: median(runs.map((m) => m.load.clientCpuCores)),
    non2xx: runs.reduce((n, m) => n + m.load.non2xx, 0),
    errors: runs.reduce((n, m) => n + m.load.errors, 0),
    runs: runs.length,
  };
}

interface Contender {
  result: ServerResult;
  target?: Target;
}

async function startContender(label: string, start: () => Promise<Target>): Promise<Contender> {
  const result: ServerResult = { label, endpoints: {} };
  try {
    const target = await start();
    result.description = target.description;
    process.stderr.write(`${label}: ${target.description} at ${target.url} (pid ${target.pid})\n`);
    return { result, target };
  } catch (err) {
    result.failure = (err as Error).message;
    process.stderr.write(`! ${label}: ${result.failure}\n`);
    return { result };
  }
}

async function measureOnce(c: Contender, endpoint: (typeof ENDPOINTS)[number], round: string, options: MeasureOptions): Promise<void> {
  if (!c.target) return;
  const slot = (c.result.endpoints[endpoint.name] ??= { runs: [], failures: [] });
  try {
    const m = await measureEndpoint(c.target, endpoint.path, options);
    slot.runs.push(m);
    const bad = m.load.non2xx + m.load.errors > 0 ? `, ${m.load.non2xx} non-2xx, ${m.load.errors} errors` : '';
    process.stderr.write(
      `  ${c.result.label} ${endpoint.name} run ${round}: ${formatNumber(m.load.requestsPerSecond)} req/s, ` +
        `${formatNumber(m.serverCpuUsPerRequest, 1)} µs CPU/req${bad}\n`,
    );
  } catch (err) {
    slot.failures.push((err as Error).message);
    process.stderr.write(`  ! ${c.result.label} ${endpoint.name} run ${round}: ${(err as Error).message}\n`);
  }
}

/**
 * Both servers stay up and take turns, one measured window at a time, the order flipping every round:
 * on a shared machine the background load drifts, and interleaving spreads that drift over both.
 * An idle server costs next to nothing: both used about 2 ms of CPU per second when idle here.
 */
async function measureInterleaved(contenders: readonly Contender[], reps: number, options: MeasureOptions): Promise<void> {
  for (let rep = 1; rep <= reps; rep++) {
    const order = rep % 2 === 1 ? contenders : [...contenders].reverse();
    for (const endpoint of ENDPOINTS) {
      for (const c of order) await measureOnce(c, endpoint, `${rep}/${reps}`, options);
    }
  }
}

function referenceStarter(args: ParsedArgs): (() => Promise<Target>) | undefined {
  if (boolFlag(args, 'skip-reference')) return undefined;
  const url = args.flags.get('reference-url');
  if (url !== undefined) {
    // An already running reference PDS: measured, never stopped.
    const pid = numberFlag(args, 'reference-pid', 0, 1);
    if (!pid) throw new UsageError('--reference-url needs --reference-pid (the server process, for its CPU)');
    return async () => ({ label: 'reference', description: `reference PDS at ${url} (started elsewhere)`, url: url.replace(/\/+$/, ''), pid, stop: async () => {} });
  }
  return () => startReferencePds({ variant: args.flags.get('reference-variant') });
}

function report(results: readonly ServerResult[], options: MeasureOptions, reps: number, loadBefore: readonly number[]): string {
  const lines: string[] = [];
  const machine = cpus();
  lines.push(
    `HTTP benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${options.connections} keep-alive connections ` +
      `(${options.client === 'net' ? 'raw-socket client' : 'node:http client'}), ` +
      `${options.durationMs / 1000} s measured after ${options.warmupMs / 1000} s warm-up, median of ${reps} run(s) per row; ` +
      `${machine.length} × ${machine[0]?.model.trim() ?? 'unknown CPU'}, load generator in its own process; ` +
      `load average before the run ${loadBefore.map((x) => x.toFixed(2)).join(' ')} (other work on the machine skews req/s more than CPU/req).`,
    '',
  );
  for (const r of results) lines.push(`- ${r.label}: ${r.description ?? 'not measured'}${r.failure ? ` — could not be started: ${r.failure}` : ''}`);
  lines.push('');
  const rows: (string | undefined)[][] = [];
  for (const r of results) {
    for (const endpoint of ENDPOINTS) {
      const slot = r.endpoints[endpoint.name];
      if (!slot) continue;
      const s = summarize(slot.runs);
      rows.push([
        r.label,
        endpoint.name,
        formatNumber(s.requestsPerSecond),
        slot.runs.map((m) => formatNumber(m.load.requestsPerSecond)).join(' / '),
        formatNumber(s.cpuUsPerRequest, 1),
        formatNumber(s.p50, 2),
        formatNumber(s.p99, 2),
        formatNumber(s.serverCores, 2),
        formatNumber(s.clientCores, 2),
        `${s.non2xx} / ${s.errors}${slot.failures.length ? ` (${slot.failures.length} run(s) failed)` : ''}`,
      ]);
    }
  }
  lines.push(
    markdownTable(
      ['server', 'endpoint', 'req/s', 'req/s per run', 'server CPU µs/req', 'p50 ms', 'p99 ms', 'server CPU (cores)', 'load generator CPU (cores)', 'non-2xx / errors'],
      rows,
      [2, 3, 4, 5, 6, 7, 8],
    ),
  );
  const squall = results.find((r) => r.label === 'Squall');
  const reference = results.find((r) => r.label === 'reference');
  if (squall && reference && !reference.failure && !squall.failure) {
    const ratioRows = ENDPOINTS.map((endpoint) => {
      const s = summarize(squall.endpoints[endpoint.name]?.runs ?? []);
      const f = summarize(reference.endpoints[endpoint.name]?.runs ?? []);
      const speed = ratio(s.requestsPerSecond, f.requestsPerSecond);
      return [
        endpoint.name,
        formatNumber(s.requestsPerSecond),
        formatNumber(f.requestsPerSecond),
        formatRatio(speed),
        formatNumber(s.cpuUsPerRequest, 1),
        formatNumber(f.cpuUsPerRequest, 1),
        formatRatio(ratio(f.cpuUsPerRequest, s.cpuUsPerRequest)),
        speed === undefined ? '-' : speed >= GOAL_RATIO ? 'met' : 'not met',
      ];
    });
    lines.push(
      '',
      markdownTable(
        ['endpoint', 'Squall req/s', 'reference req/s', 'req/s ratio (Squall ÷ ref)', 'Squall CPU µs/req', 'reference CPU µs/req', 'CPU/req ratio (ref ÷ Squall)', `goal ≥ ${GOAL_RATIO}× req/s`],
        ratioRows,
        [1, 2, 3, 4, 5, 6],
      ),
    );
  } else if (reference?.failure) {
    lines.push('', `The reference PDS could not be started, so there are no ratios: ${reference.failure.split('\n')[0]}`);
  }
  const saturated = results.some((r) => Object.values(r.endpoints).some((slot) => (summarize(slot?.runs ?? []).clientCores ?? 0) >= 0.9));
  if (saturated) {
    lines.push(
      '',
      'The load generator used about a whole core in some rows: there, req/s is bounded by the client on this machine, ' +
        'and server CPU µs/req is the figure to compare.',
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  rejectUnknownFlags(args, [...MEASURE_FLAGS, 'reps', 'skip-reference', 'reference-variant', 'reference-url', 'reference-pid']);
  if (args.positional.length > 0) throw new UsageError(`unexpected argument: ${args.positional[0]}`);
  const options = measureOptionsFromArgs(args);
  const reps = numberFlag(args, 'reps', 3, 1, 100);
  const startReference = referenceStarter(args);
  const loadBefore = loadavg();

  // Logging off, as in the figures of docs/benchmarks.md: these methods are small enough that the request log line would be a large share.
  const contenders = [await startContender('Squall', () => startSquall({ logLevel: 'silent' }))];
  if (startReference) contenders.push(await startContender('reference', startReference));
  try {
    await measureInterleaved(contenders, reps, options);
  } finally {
    for (const c of contenders) await c.target?.stop();
  }
  const results = contenders.map((c) => c.result);

  const text = report(results, options, reps, loadBefore);
  const dir = makeRunDir('http');
  writeFileSync(join(dir, 'report.md'), text + '\n');
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ options: { ...options, reps }, results }, null, 2) + '\n');
  process.stdout.write(`\n${text}\n\n(saved in ${dir})\n`);
  const measuredSquall = results[0].endpoints.describeServer?.runs.length ?? 0;
  process.exitCode = measuredSquall > 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof UsageError ? `bench/http: ${err.message}\n` : `bench/http failed: ${(err as Error).stack ?? err}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
