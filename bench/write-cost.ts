// Server cost per operation of the write and read paths, for before/after comparisons on a shared,
// noisy machine: server CPU per op from /proc, and (with --callgrind) the instructions the server
// executed per op, counted by valgrind, which do not move with the machine's load.
//
//   node --import tsx bench/write-cost.ts [--trees DIR,DIR...] [--rounds 3] [--workload create]
//        [--ops 2000] [--warmup 400] [--concurrency 8] [--log-level info] [--runtime start|built|tsx]
//        [--callgrind [--keep-callgrind]] [--env KEY=VALUE,...] ['--node-args=--cpu-prof --cpu-prof-dir=/tmp/prof'] [--reference]
//
// Each round starts every tree's server afresh (fresh data directory, same settings), in turn, the
// order flipping each round, creates --concurrency accounts, runs --warmup operations, then measures
// --ops operations. --trees compares checkouts (e.g. a `git worktree` of the commit before a change
// beside this one): the same load, interleaved. Without --log-level the server logs as `npm start`
// does (info, one line per request, to a pipe this script drains). --reference adds the reference PDS
// (`@atproto/pds`, started afresh each round by ../shared/bench/refpds/start.sh, production-like,
// logging off) to the rotation, under the same load, and prints Squall's CPU per op as a share of
// its, per round and as the median of those ratios.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Agent, request } from 'node:http';
import { numberFlag, parseArgs, UsageError } from './lib/args.ts';
import { repoRoot } from './lib/paths.ts';
import { startLocalPlc } from './lib/plc.ts';
import { findFreePort, OutputTail, stopChild, waitForHttpOk } from './lib/processes.ts';
import { sampleProcess } from './lib/proc.ts';
import { startReferencePds } from './lib/refpds.ts';
import { ensureBuilt, nodeFlags, npmStartCommand, npmStartNode, sourceStartGuard, squallEnv } from './lib/squall.ts';

const REFERENCE = 'reference';
const WORKLOADS = ['create', 'create-one', 'apply10', 'get', 'list'] as const;
type Workload = (typeof WORKLOADS)[number];

interface Options {
  workload: Workload;
  ops: number;
  warmup: number;
  concurrency: number;
  logLevel: string | undefined;
  runtime: 'start' | 'built' | 'tsx';
  callgrind: boolean;
  /** Leave the callgrind dumps on disk (for callgrind_annotate) instead of deleting them. */
  keepCallgrind: boolean;
  env: Record<string, string>;
  nodeArgs: string[];
}

interface Measured {
  tree: string;
  cpuMsPerOp: number;
  opsPerS: number;
  instructionsPerOp?: number;
  /** RSS after start-up, before any account exists. */
  idleRssMb: number;
  /** RSS at the end of the measured window. */
  rssMb: number;
  /** write(2)-family system calls of the server per op (responses, logs, WAL, fsyncs not included). */
  writeCallsPerOp?: number;
  /** Writes per commit group (transaction) over the measured window. */
  writesPerGroup?: number;
  /** Of the calls measured, the share answered by a commit merged with other calls' creates (src/repo/create-merger.ts); undefined for a tree without merging. */
  mergedShare?: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(base: string, method: 'GET' | 'POST', path: string, body?: unknown, token?: string, basic?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolvePromise, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      `${base}/xrpc/${path}`,
      {
        method,
        agent,
        headers: {
          ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(basic ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolvePromise({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function ok(p: Promise<{ status: number; json: any }>): Promise<any> {
  const { status, json } = await p;
  if (status !== 200) throw new Error(`HTTP ${status}: ${JSON.stringify(json)}`);
  return json;
}

interface Account {
  did: string;
  token: string;
}

const post = (i: number) => ({ $type: 'app.bsky.feed.post', text: `bench post ${i} with some words in it`, createdAt: new Date().toISOString() });

/** Runs `total` operations, `concurrency` at a time; op(i, worker) does the i-th. */
async function runOps(total: number, concurrency: number, op: (i: number, worker: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < total) await op(next++, worker);
    }),
  );
}

function workloadOp(workload: Workload, base: string, accounts: Account[], rkeys: string[][]): (i: number, worker: number) => Promise<void> {
  switch (workload) {
    case 'create':
    case 'create-one':
      return async (i, worker) => {
        const account = workload === 'create' ? accounts[worker % accounts.length] : accounts[0];
        const out = await ok(call(base, 'POST', 'com.atproto.repo.createRecord', { repo: account.did, collection: 'app.bsky.feed.post', record: post(i) }, account.token));
        rkeys[accounts.indexOf(account)].push(out.uri.split('/').pop());
      };
    case 'apply10':
      return async (i, worker) => {
        const account = accounts[worker % accounts.length];
        const writes = Array.from({ length: 10 }, (_, j) => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: post(i * 10 + j) }));
        await ok(call(base, 'POST', 'com.atproto.repo.applyWrites', { repo: account.did, writes }, account.token));
      };
    case 'get':
      return async (i, worker) => {
        const a = worker % accounts.length;
        const keys = rkeys[a];
        const rkey = keys[(i * 7919) % keys.length];
        await ok(call(base, 'GET', `com.atproto.repo.getRecord?repo=${accounts[a].did}&collection=app.bsky.feed.post&rkey=${rkey}`));
      };
    case 'list':
      return async (_i, worker) => {
        const a = worker % accounts.length;
        await ok(call(base, 'GET', `com.atproto.repo.listRecords?repo=${accounts[a].did}&collection=app.bsky.feed.post&limit=50`));
      };
  }
}

function valgrindIr(dumpDir: string, pid: number): number {
  // callgrind writes callgrind.out.<pid>[.<n>]; the newest dump after the zeroing holds the window.
  const dumps = readdirSync(dumpDir)
    .filter((f) => f.startsWith(`callgrind.out.${pid}.`))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  if (dumps.length === 0) throw new Error(`callgrind wrote no dump in ${dumpDir}`);
  const file = join(dumpDir, dumps.at(-1)!);
  const text = readFileSync(file, 'utf8');
  const summary = /^summary:\s+(\d+)/m.exec(text) ?? /^totals:\s+(\d+)/m.exec(text);
  if (!summary) throw new Error(`no summary line in ${file}`);
  return Number(summary[1]);
}

/** A server being measured: one of the trees, or the reference PDS. */
interface Server {
  base: string;
  pid: number;
  /** Squall's commit-group counters (_admin/status); the reference has none. */
  writePath?: () => Promise<{ transactions: number; writes: number; mergedCalls?: number } | undefined>;
  stop(): Promise<void>;
}

async function startTree(tree: string, plcUrl: string, o: Options): Promise<Server & { callgrindDir?: string }> {
  const port = await findFreePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'squall-cost-'));
  // `npm start`'s environment and node arguments as the tree's package.json has them; --runtime built swaps its loader and entry for the compiled build.
  const start = npmStartCommand(tree);
  const startArgs = start.args;
  const env = squallEnv({ port, dataDir, plcUrl, logLevel: o.logLevel, start: start.env, extra: o.env });
  if (o.runtime !== 'tsx') ensureBuilt(tree);
  const entry = [
    ...o.nodeArgs,
    ...(o.runtime === 'start' ? startArgs : [...nodeFlags(startArgs), ...(o.runtime === 'built' ? ['dist/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts']), 'serve']),
  ];
  const cgDir = o.callgrind ? mkdtempSync(join(tmpdir(), 'squall-callgrind-')) : undefined;
  const [cmd, args] = cgDir
    ? ['valgrind', ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${cgDir}/callgrind.out.%p`, '--dump-instr=no', npmStartNode(tree), ...entry]]
    : [npmStartNode(tree), entry];
  const child: ChildProcess = spawn(cmd, args as string[], { cwd: tree, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = sourceStartGuard(child, tree);
  const tail = new OutputTail();
  // The request log goes to a pipe, as under a service manager; it is read and dropped.
  child.stdout!.on('data', (c: Buffer) => tail.push(c));
  child.stderr!.on('data', (c: Buffer) => tail.push(c));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
    if (cgDir && !o.keepCallgrind) rmSync(cgDir, { recursive: true, force: true });
    if (cgDir && o.keepCallgrind) process.stderr.write(`callgrind dumps kept in ${cgDir}\n`);
  };
  try {
    await waitForHttpOk(`${base}/xrpc/_health`, o.callgrind ? 600_000 : 60_000, () => (child.exitCode !== null ? `exited: ${tail}` : undefined));
    if (o.runtime === 'start') guard.check();
  } catch (err) {
    await stop();
    throw err;
  }
  const adminPassword = (JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { adminPassword: string }).adminPassword;
  return {
    base,
    pid: child.pid!,
    callgrindDir: cgDir,
    writePath: async () => (await call(base, 'GET', '_admin/status', undefined, undefined, `admin:${adminPassword}`)).json?.writePath,
    stop,
  };
}

async function startReference(): Promise<Server> {
  const target = await startReferencePds({ showProgress: false });
  return { base: target.url, pid: target.pid, stop: () => target.stop() };
}

async function measure(label: string, server: Server & { callgrindDir?: string }, o: Options): Promise<Measured> {
  const { base, pid } = server;
  try {
    const idle = sampleProcess(pid)!;
    const accounts: Account[] = [];
    const stamp = Date.now().toString(36);
    for (let i = 0; i < o.concurrency; i++) {
      const out = await ok(call(base, 'POST', 'com.atproto.server.createAccount', { handle: `c${stamp}${i}.test`, email: `c${stamp}${i}@example.com`, password: 'bench-password-1' }));
      accounts.push({ did: out.did, token: out.accessJwt });
    }
    const rkeys: string[][] = accounts.map(() => []);
    const reads = o.workload === 'get' || o.workload === 'list';
    // Reads need records: the warm-up writes them.
    await runOps(o.warmup, o.concurrency, workloadOp(reads ? 'create' : o.workload, base, accounts, rkeys));
    if (reads) await runOps(o.warmup, o.concurrency, workloadOp(o.workload, base, accounts, rkeys));
    const groupsBefore = await server.writePath?.();
    if (server.callgrindDir) execFileSync('callgrind_control', ['-z', String(pid)], { stdio: 'ignore' });
    const before = sampleProcess(pid)!;
    const t0 = performance.now();
    await runOps(o.ops, o.concurrency, workloadOp(o.workload, base, accounts, rkeys));
    const seconds = (performance.now() - t0) / 1000;
    const after = sampleProcess(pid)!;
    const groupsAfter = await server.writePath?.();
    const writesPerGroup = groupsBefore && groupsAfter ? (groupsAfter.writes - groupsBefore.writes) / Math.max(1, groupsAfter.transactions - groupsBefore.transactions) : undefined;
    const mergedShare = groupsBefore?.mergedCalls !== undefined && groupsAfter?.mergedCalls !== undefined ? (groupsAfter.mergedCalls - groupsBefore.mergedCalls) / o.ops : undefined;
    let instructionsPerOp: number | undefined;
    if (server.callgrindDir) {
      execFileSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
      instructionsPerOp = valgrindIr(server.callgrindDir, pid) / o.ops;
    }
    return {
      tree: label,
      cpuMsPerOp: (after.cpuUs - before.cpuUs) / 1000 / o.ops,
      opsPerS: o.ops / seconds,
      instructionsPerOp,
      writeCallsPerOp: after.writeCalls !== undefined && before.writeCalls !== undefined ? (after.writeCalls - before.writeCalls) / o.ops : undefined,
      idleRssMb: idle.rssBytes / 1048576,
      rssMb: after.rssBytes / 1048576,
      writesPerGroup,
      mergedShare,
    };
  } finally {
    await server.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** start: `npm start`'s command (the compiled build, built first); built: dist/cli/main.js directly; tsx: the source through tsx. */
function runtimeFlag(value: string | undefined): Options['runtime'] {
  if (value === undefined || value === 'start' || value === 'built' || value === 'tsx') return value ?? 'start';
  throw new UsageError(`--runtime takes start, built or tsx; got "${value}"`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const workload = (args.flags.get('workload') ?? 'create') as Workload;
  if (!WORKLOADS.includes(workload)) throw new UsageError(`--workload must be one of ${WORKLOADS.join(', ')}`);
  const callgrind = args.flags.get('callgrind') === 'true';
  const o: Options = {
    workload,
    callgrind,
    keepCallgrind: args.flags.get('keep-callgrind') === 'true',
    ops: numberFlag(args, 'ops', callgrind ? 300 : 2000, 1),
    warmup: numberFlag(args, 'warmup', callgrind ? 300 : 400, 0),
    concurrency: numberFlag(args, 'concurrency', 8, 1, 256),
    logLevel: args.flags.get('log-level'),
    runtime: runtimeFlag(args.flags.get('runtime')),
    nodeArgs: (args.flags.get('node-args') ?? '').split(' ').filter(Boolean),
    env: Object.fromEntries((args.flags.get('env') ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string])),
  };
  const trees = (args.flags.get('trees') ?? repoRoot).split(',').map((t) => resolve(t));
  const withReference = args.flags.get('reference') === 'true';
  if (withReference && callgrind) throw new UsageError('--callgrind measures Squall trees only; drop --reference');
  const rounds = numberFlag(args, 'rounds', 3, 1, 50);
  const labels = [...trees, ...(withReference ? [REFERENCE] : [])];
  const plc = await startLocalPlc();
  const results = new Map<string, Measured[]>(labels.map((t) => [t, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? labels : [...labels].reverse();
      for (const label of order) {
        const server = label === REFERENCE ? await startReference() : await startTree(label, plc.url, o);
        const m = await measure(label, server, o);
        results.get(label)!.push(m);
        process.stderr.write(
          `round ${r + 1} ${label}: ${m.cpuMsPerOp.toFixed(3)} ms CPU/op, ${m.opsPerS.toFixed(0)} ops/s` +
            `${m.instructionsPerOp ? `, ${(m.instructionsPerOp / 1e6).toFixed(3)} M instructions/op` : ''}` +
            `${m.writeCallsPerOp !== undefined ? `, ${m.writeCallsPerOp.toFixed(1)} write calls/op` : ''}, RSS ${m.idleRssMb.toFixed(0)} MB idle, ${m.rssMb.toFixed(0)} MB after` +
            `${m.writesPerGroup !== undefined ? `, ${m.writesPerGroup.toFixed(2)} writes per commit group` : ''}` +
            `${m.mergedShare !== undefined ? `, ${(m.mergedShare * 100).toFixed(0)}% of calls in merged commits` : ''}\n`,
        );
      }
    }
  } finally {
    await plc.stop();
    agent.destroy();
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `\nworkload ${o.workload}, ${o.ops} ops after ${o.warmup} warm-up, C=${o.concurrency}, Squall log level ${o.logLevel ?? 'default (info)'}, ${o.runtime}, ` +
      `Squall on node ${[...new Set(trees.map((t) => execFileSync(npmStartNode(t), ['--version'], { encoding: 'utf8' }).trim()))].join(', ')}, ${rounds} rounds; load average now ${load}\n`,
  );
  console.log('| server | server CPU ms/op (median) | per round | ops/s (median) |' + (callgrind ? ' M instructions/op (median) |' : '') + ' RSS MB idle | RSS MB after | writes per commit group |');
  console.log('|---|---:|---|---:|' + (callgrind ? '---:|' : '') + '---:|---:|---:|');
  for (const [label, ms] of results) {
    console.log(
      `| ${label} | ${median(ms.map((m) => m.cpuMsPerOp)).toFixed(3)} | ${ms.map((m) => m.cpuMsPerOp.toFixed(2)).join(' / ')} | ${median(ms.map((m) => m.opsPerS)).toFixed(0)} |` +
        (callgrind ? ` ${(median(ms.map((m) => m.instructionsPerOp!)) / 1e6).toFixed(3)} |` : '') +
        ` ${median(ms.map((m) => m.idleRssMb)).toFixed(0)} | ${median(ms.map((m) => m.rssMb)).toFixed(0)} | ${ms.every((m) => m.writesPerGroup !== undefined) ? median(ms.map((m) => m.writesPerGroup!)).toFixed(2) : '-'} |`,
    );
  }
  const ref = results.get(REFERENCE);
  if (ref) {
    const refCpu = median(ref.map((m) => m.cpuMsPerOp));
    for (const tree of trees) {
      const ms = results.get(tree)!;
      // Per-round ratios (each round's servers ran minutes apart at most), then their median.
      const ratios = ms.map((m, i) => m.cpuMsPerOp / ref[i].cpuMsPerOp);
      console.log(
        `\n${tree}: server CPU per op ${(median(ratios) * 100).toFixed(1)}% of the reference's (per round: ${ratios.map((x) => (x * 100).toFixed(1) + '%').join(' / ')}; ` +
          `medians ${median(ms.map((m) => m.cpuMsPerOp)).toFixed(3)} / ${refCpu.toFixed(3)} ms), ops/s ${(median(ms.map((m) => m.opsPerS)) / median(ref.map((m) => m.opsPerS))).toFixed(2)}×`,
      );
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof UsageError ? `bench/write-cost: ${err.message}\n` : `bench/write-cost failed: ${(err as Error).stack ?? err}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
