// Issue 17: what the Prometheus metrics cost per request. Two measurements:
//   1. in process: one observation of the per-request histogram (Squall's, with its children kept
//      per method) against prom-client's own labelled Histogram, ns per observation;
//   2. over HTTP: server CPU µs per describeServer request with PDS_METRICS_ENABLED=true and
//      =false, two server processes measured in interleaved windows (median of --reps).
//
//   node --import tsx bench/metrics.ts [--connections 8] [--duration 4] [--warmup 1] [--reps 5]
import { Histogram } from 'prom-client';
import { numberFlag, parseArgs, rejectUnknownFlags } from './lib/args.ts';
import { compareOps } from './lib/compare.ts';
import { measureEndpoint, type MeasureOptions } from './lib/http-measure.ts';
import { startSquall } from './lib/squall.ts';
import { median } from './lib/stats.ts';
import { formatNumber, markdownTable } from './lib/table.ts';
import { LATENCY_BUCKETS, RequestMetrics } from '../src/metrics/request-metrics.ts';

async function observationCost(): Promise<string> {
  const ours = new RequestMetrics();
  const theirs = new Histogram({ name: 'x', help: 'x', labelNames: ['nsid', 'status', 'auth'], buckets: LATENCY_BUCKETS, registers: [] });
  const methods = ['com.atproto.repo.getRecord', 'com.atproto.repo.createRecord', 'app.bsky.actor.getPreferences'].map((nsid) => ({ nsid }));
  const statuses = [200, 200, 200, 400];
  let i = 0;
  const perSecond = await compareOps(
    {
      squall: () => {
        for (let n = 0; n < 1000; n++, i++) ours.observe(methods[i % 3], statuses[i & 3], 'access', 0.0012);
      },
      'prom-client': () => {
        for (let n = 0; n < 1000; n++, i++) theirs.observe({ nsid: methods[i % 3].nsid, status: String(statuses[i & 3]), auth: 'access' }, 0.0012);
      },
    },
    { batch: 1000, rounds: 5, roundMs: 200 },
  );
  return markdownTable(
    ['histogram', 'observations/s', 'ns per observation'],
    Object.entries(perSecond).map(([name, ops]) => [name, formatNumber(ops), formatNumber(ops ? 1e9 / ops : undefined, 0)]),
    [1, 2],
  );
}

async function httpCost(options: MeasureOptions, reps: number): Promise<string> {
  const on = await startSquall({ env: { PDS_METRICS_ENABLED: 'true' } });
  const off = await startSquall({ env: { PDS_METRICS_ENABLED: 'false' } });
  const cpu: Record<string, number[]> = { on: [], off: [] };
  const rps: Record<string, number[]> = { on: [], off: [] };
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const [label, target] of rep % 2 === 0 ? ([['on', on], ['off', off]] as const) : ([['off', off], ['on', on]] as const)) {
        const m = await measureEndpoint(target, '/xrpc/com.atproto.server.describeServer', options);
        cpu[label].push(m.serverCpuUsPerRequest ?? NaN);
        rps[label].push(m.load.requestsPerSecond);
        process.stderr.write(`metrics ${label}: ${m.load.requestsPerSecond.toFixed(0)} req/s, ${m.serverCpuUsPerRequest?.toFixed(1)} µs CPU/req\n`);
      }
    }
  } finally {
    await on.stop();
    await off.stop();
  }
  const onCpu = median(cpu.on);
  const offCpu = median(cpu.off);
  return markdownTable(
    ['metrics', 'req/s', 'server CPU µs/req'],
    [
      ['enabled', formatNumber(median(rps.on)), formatNumber(onCpu, 1)],
      ['disabled', formatNumber(median(rps.off)), formatNumber(offCpu, 1)],
      ['difference', '', onCpu !== undefined && offCpu !== undefined ? `${formatNumber(onCpu - offCpu, 1)} (${formatNumber(((onCpu - offCpu) / offCpu) * 100, 1)} %)` : '-'],
    ],
    [1, 2],
  );
}

const args = parseArgs(process.argv.slice(2));
rejectUnknownFlags(args, ['connections', 'duration', 'warmup', 'reps']);
const options: MeasureOptions = {
  client: 'http',
  connections: numberFlag(args, 'connections', 8, 1, 1024),
  durationMs: numberFlag(args, 'duration', 4, 0.5, 600) * 1000,
  warmupMs: numberFlag(args, 'warmup', 1, 0, 600) * 1000,
};
const reps = numberFlag(args, 'reps', 5, 0, 100);
const micro = await observationCost();
process.stdout.write(`## Metrics cost\n\n${micro}\n\n${reps > 0 ? await httpCost(options, reps) : ''}\n`);
