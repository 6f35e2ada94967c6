// Issue 13: a proxied query, app.bsky.actor.getProfile, answered by a fast local AppView (its own
// process), asked through Squall, through the reference PDS and of the AppView directly, in the
// same run, taking turns. Reports requests/s and server CPU per request under load, and the
// latency each PDS adds over the direct call (one connection, so no queueing). See docs/benchmarks.md.
//
//   node --import tsx bench/proxy.ts [--client http|net] [--connections 8] [--duration 5] [--warmup 1] [--reps 3]
//        [--latency-duration 3] [--skip-reference]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { boolFlag, numberFlag, parseArgs, rejectUnknownFlags, UsageError } from './lib/args.ts';
import { MEASURE_FLAGS, measureEndpoint, measureOptionsFromArgs, type Measurement, type MeasureOptions } from './lib/http-measure.ts';
import { makeRunDir, repoRoot } from './lib/paths.ts';
import { startLocalPlc } from './lib/plc.ts';
import { onInterrupt, OutputTail, ServerStartError, stopChild } from './lib/processes.ts';
import { startReferencePdsWithEnv } from './lib/refpds.ts';
import { startSquall } from './lib/squall.ts';
import { median, ratio } from './lib/stats.ts';
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';
import type { Target } from './lib/target.ts';

const NSID = 'app.bsky.actor.getProfile';
const APPVIEW_DID = 'did:web:appview.bench.test';
/** Issue 13's aims: at least 3× the reference's requests/s, at most a third of its CPU per request. */
const GOAL_SPEED = 3;
const GOAL_CPU = 3;

interface Contender {
  label: string;
  target: Target;
  headers: Record<string, string>;
  path: string;
  load: Measurement[];
  latency: Measurement[];
  failures: string[];
}

async function startBenchAppView(): Promise<Target> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/lib/bench-appview.ts', APPVIEW_DID], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stderr.on('data', (c: Buffer) => output.push(c));
  const stop = () => stopChild(child);
  const forget = onInterrupt(stop);
  const port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (c: Buffer) => {
      seen += c.toString();
      const match = /listening (\d+)/.exec(seen);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new ServerStartError(`the benchmark AppView exited (${code}): ${output}`)));
  });
  return {
    label: 'AppView',
    description: `bench/lib/bench-appview.ts on node ${process.version}`,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      forget();
      await stop();
    },
  };
}

async function xrpc(base: string, nsid: string, init: { body?: unknown; token?: string; query?: string } = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/xrpc/${nsid}${init.query ? `?${init.query}` : ''}`, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${nsid} at ${base} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** An account on a PDS, signed in: the proxied calls are made as it. */
async function account(target: Target): Promise<{ did: string; accessJwt: string }> {
  const created = await xrpc(target.url, 'com.atproto.server.createAccount', {
    body: { handle: `bp${Date.now().toString(36)}.test`, email: 'bench-proxy@example.com', password: 'bench-proxy-password' },
  });
  return { did: created.did as string, accessJwt: created.accessJwt as string };
}

async function measure(c: Contender, kind: 'load' | 'latency', options: MeasureOptions, round: string): Promise<void> {
  try {
    const m = await measureEndpoint(c.target, c.path, { ...options, headers: c.headers });
    c[kind].push(m);
    const bad = m.load.non2xx + m.load.errors > 0 ? `, ${m.load.non2xx} non-2xx, ${m.load.errors} errors ${m.load.errorSamples.slice(0, 1).join('')}` : '';
    process.stderr.write(
      `  ${c.label} ${kind} ${round}: ${formatNumber(m.load.requestsPerSecond)} req/s, ${formatNumber(m.serverCpuUsPerRequest, 1)} µs CPU/req, ` +
        `p50 ${formatNumber(m.load.latencyMs.p50, 3)} ms, p99 ${formatNumber(m.load.latencyMs.p99, 3)} ms${bad}\n`,
    );
  } catch (err) {
    c.failures.push((err as Error).message);
    process.stderr.write(`  ! ${c.label} ${kind} ${round}: ${(err as Error).message}\n`);
  }
}

const med = (runs: Measurement[], pick: (m: Measurement) => number | undefined) => median(runs.map(pick).filter((x): x is number => x !== undefined));

function report(contenders: Contender[], options: MeasureOptions, latencyMs: number, reps: number, loadBefore: number[]): string {
  const machine = cpus();
  const lines = [
    `Proxy benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: GET ${NSID} with the account's access token, ` +
      `answered by a local AppView process (a fixed ~700-byte profile). Load: ${options.connections} keep-alive connections ` +
      `(${options.client === 'net' ? 'raw-socket client' : 'node:http client'}), ${options.durationMs / 1000} s after ${options.warmupMs / 1000} s warm-up; ` +
      `latency: 1 connection, ${latencyMs / 1000} s. Median of ${reps} interleaved round(s). ${machine.length} × ${machine[0]?.model.trim() ?? 'unknown CPU'}; ` +
      `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}. "Direct" is the AppView called with a service token, its CPU the AppView's; ` +
      `the PDS rows count the PDS process only.`,
    '',
    ...contenders.map((c) => `- ${c.label}: ${c.target.description}`),
    '',
  ];
  const rows = contenders.map((c) => [
    c.label,
    formatNumber(med(c.load, (m) => m.load.requestsPerSecond)),
    c.load.map((m) => formatNumber(m.load.requestsPerSecond)).join(' / '),
    formatNumber(med(c.load, (m) => m.serverCpuUsPerRequest), 1),
    formatNumber(med(c.load, (m) => m.load.latencyMs.p50), 2),
    formatNumber(med(c.load, (m) => m.load.latencyMs.p99), 2),
    formatNumber(med(c.load, (m) => m.load.clientCpuCores), 2),
    `${[...c.load, ...c.latency].reduce((n, m) => n + m.load.non2xx, 0)} / ${[...c.load, ...c.latency].reduce((n, m) => n + m.load.errors, 0)}${c.failures.length ? ` (${c.failures.length} failed)` : ''}`,
  ]);
  lines.push(markdownTable(['path', 'req/s', 'req/s per run', 'server CPU µs/req', 'p50 ms', 'p99 ms', 'load generator CPU (cores)', 'non-2xx / errors'], rows, [1, 2, 3, 4, 5, 6]), '');

  const direct = contenders.find((c) => c.label === 'direct');
  const p = (c: Contender | undefined, q: 'p50' | 'p99') => (c ? med(c.latency, (m) => m.load.latencyMs[q]) : undefined);
  const added = (c: Contender, q: 'p50' | 'p99') => {
    const a = p(c, q);
    const d = p(direct, q);
    return a === undefined || d === undefined ? undefined : a - d;
  };
  lines.push(
    markdownTable(
      ['path (1 connection)', 'p50 ms', 'p99 ms', 'added over direct, p50 ms', 'added over direct, p99 ms'],
      contenders.map((c) => [c.label, formatNumber(p(c, 'p50'), 3), formatNumber(p(c, 'p99'), 3), c === direct ? '-' : formatNumber(added(c, 'p50'), 3), c === direct ? '-' : formatNumber(added(c, 'p99'), 3)]),
      [1, 2, 3, 4],
    ),
  );
  const squall = contenders.find((c) => c.label === 'Squall');
  const reference = contenders.find((c) => c.label === 'reference');
  if (squall && reference) {
    const speed = ratio(med(squall.load, (m) => m.load.requestsPerSecond), med(reference.load, (m) => m.load.requestsPerSecond));
    const cpu = ratio(med(reference.load, (m) => m.serverCpuUsPerRequest), med(squall.load, (m) => m.serverCpuUsPerRequest));
    lines.push(
      '',
      markdownTable(
        ['', 'Squall ÷ reference', 'aim', ''],
        [
          ['req/s', formatRatio(speed), `≥ ${GOAL_SPEED}×`, speed === undefined ? '-' : speed >= GOAL_SPEED ? 'met' : 'not met'],
          ['CPU per request (reference ÷ Squall)', formatRatio(cpu), `≥ ${GOAL_CPU}× less`, cpu === undefined ? '-' : cpu >= GOAL_CPU ? 'met' : 'not met'],
        ],
        [1],
      ),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  rejectUnknownFlags(args, [...MEASURE_FLAGS, 'reps', 'latency-duration', 'skip-reference']);
  if (args.positional.length > 0) throw new UsageError(`unexpected argument: ${args.positional[0]}`);
  const load = measureOptionsFromArgs(args);
  const latency: MeasureOptions = { ...load, connections: 1, durationMs: numberFlag(args, 'latency-duration', 3, 0.5, 600) * 1000 };
  const reps = numberFlag(args, 'reps', 3, 1, 100);
  const loadBefore = loadavg();

  const started: Target[] = [];
  const plc = await startLocalPlc();
  try {
    const appView = await startBenchAppView();
    started.push(appView);
    const services = { PDS_BSKY_APP_VIEW_URL: appView.url, PDS_BSKY_APP_VIEW_DID: APPVIEW_DID };
    const squall = await startSquall({ plcUrl: plc.url, env: services });
    started.push(squall);
    const contenders: Contender[] = [];
    const add = (label: string, target: Target, token: string, did: string) =>
      contenders.push({ label, target, headers: { authorization: `Bearer ${token}` }, path: `/xrpc/${NSID}?actor=${encodeURIComponent(did)}`, load: [], latency: [], failures: [] });

    const onSquall = await account(squall);
    // The direct call carries a service token like the ones the PDSs send (valid for the whole run).
    const direct = await xrpc(squall.url, 'com.atproto.server.getServiceAuth', {
      token: onSquall.accessJwt,
      query: new URLSearchParams({ aud: APPVIEW_DID, lxm: NSID, exp: String(Math.floor(Date.now() / 1000) + 3500) }).toString(),
    });
    add('direct', appView, direct.token as string, onSquall.did);
    add('Squall', squall, onSquall.accessJwt, onSquall.did);
    if (!boolFlag(args, 'skip-reference')) {
      // PDS_DISABLE_SSRF_PROTECTION: the reference otherwise refuses a plain-http AppView on loopback.
      const reference = await startReferencePdsWithEnv({ plcUrl: plc.url, env: { ...services, PDS_DISABLE_SSRF_PROTECTION: 'true' } });
      started.push(reference);
      const onReference = await account(reference);
      add('reference', reference, onReference.accessJwt, onReference.did);
    }
    for (const c of contenders) {
      process.stderr.write(`${c.label}: ${c.target.description} at ${c.target.url} (pid ${c.target.pid})\n`);
      const res = await fetch(c.target.url + c.path, { headers: c.headers });
      if (res.status !== 200) throw new Error(`${c.label} does not answer the proxied call: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    for (let rep = 1; rep <= reps; rep++) {
      const order = rep % 2 === 1 ? contenders : [...contenders].reverse();
      for (const c of order) await measure(c, 'load', load, `${rep}/${reps}`);
      for (const c of order) await measure(c, 'latency', latency, `${rep}/${reps}`);
    }
    const text = report(contenders, load, latency.durationMs, reps, loadBefore);
    const dir = makeRunDir('proxy');
    writeFileSync(join(dir, 'report.md'), text + '\n');
    const results = contenders.map(({ label, target, load: l, latency: t, failures }) => ({ label, description: target.description, load: l, latency: t, failures }));
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ options: { load, latency, reps }, results }, null, 2) + '\n');
    process.stdout.write(`\n${text}\n\n(saved in ${dir})\n`);
  } finally {
    for (const target of started.reverse()) await target.stop();
    await plc.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof UsageError ? `bench/proxy: ${err.message}\n` : `bench/proxy failed: ${(err as Error).stack ?? err}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
