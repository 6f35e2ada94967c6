// Squall against the reference PDS under the shared load generator (../shared/bench/load.mjs):
// N runs each on freshly started servers, interleaved, then the median tables and Squall's advantage.
//
//   node --import tsx bench/load-compare.ts [--runs 3] [--only a,b,c,d] [--skip g] [--together]
//        [--skip-reference] [--reference-variant node20] [--timeout 900] [any load.mjs flag...]
//
// Each workload runs in its own load.mjs process against the same server, so one that fails (an
// endpoint Squall does not have yet, a crash in getRepo) is reported and the others still count.
// --together runs them all in one process instead, as load.mjs alone would.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { boolFlag, numberFlag, parseArgs, UsageError } from './lib/args.ts';
import { loadMjsPath, runLoadMjs } from './lib/load-mjs.ts';
import { compareRuns, describeProblems, mergeRuns, type LoadRun } from './lib/load-summary.ts';
import { makeRunDir, sharedBenchDir } from './lib/paths.ts';
import { startReferencePds } from './lib/refpds.ts';
import { startSquallWithPlc } from './lib/squall.ts';
import type { Target } from './lib/target.ts';

const WORKLOADS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const OWN_FLAGS = ['runs', 'only', 'skip', 'together', 'skip-reference', 'reference-variant', 'timeout'];

interface Contender {
  label: string;
  file: string;
  start: () => Promise<Target>;
  runs: { file: string; run: LoadRun }[];
  notes: string[];
  /** Set when the server cannot be started; its remaining runs are skipped. */
  unavailable?: string;
}

function selectWorkloads(only: string | undefined, skip: string | undefined): string[] {
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const chosen = only ? list(only) : WORKLOADS;
  const unknown = [...chosen, ...(skip ? list(skip) : [])].filter((w) => !WORKLOADS.includes(w));
  if (unknown.length) throw new UsageError(`unknown workload(s) ${unknown.join(',')}: pick from ${WORKLOADS.join(',')}`);
  const skipped = new Set(skip ? list(skip) : []);
  return WORKLOADS.filter((w) => chosen.includes(w) && !skipped.has(w));
}

async function runOnce(c: Contender, runNumber: number, groups: string[][], passThrough: string[], timeoutMs: number, dir: string): Promise<void> {
  let target: Target;
  try {
    target = await c.start();
  } catch (err) {
    c.unavailable = (err as Error).message;
    c.notes.push(`run ${runNumber}: could not start: ${c.unavailable}`);
    process.stderr.write(`! ${c.label}: ${c.unavailable}\n`);
    return;
  }
  process.stderr.write(`\n== ${c.label} run ${runNumber}: ${target.description} at ${target.url} (pid ${target.pid})\n`);
  const parts: LoadRun[] = [];
  try {
    for (const group of groups) {
      const out = join(dir, `${c.file}-run${runNumber}-${group.join('')}.json`);
      const result = await runLoadMjs(target, out, ['--only', group.join(','), ...passThrough], timeoutMs);
      if (result.run) {
        parts.push(result.run);
        for (const problem of describeProblems(result.run)) c.notes.push(`run ${runNumber}: ${problem}`);
      } else {
        c.notes.push(`run ${runNumber}, workload ${group.join(',')}: ${result.failure}`);
      }
    }
  } finally {
    await target.stop();
  }
  if (parts.length === 0) return;
  const file = join(dir, `${c.file}-run${runNumber}.json`);
  const run = mergeRuns(parts);
  writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
  c.runs.push({ file, run });
}

function summaryTable(c: Contender): string {
  if (c.runs.length === 0) return `### ${c.label}\n\nNo results.`;
  const res = spawnSync(process.execPath, [join(sharedBenchDir(), 'summarize.mjs'), ...c.runs.map((r) => r.file), '--title', c.label], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : `### ${c.label}\n\nsummarize.mjs failed: ${res.stderr.trim()}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.positional.length > 0) throw new UsageError(`unexpected argument: ${args.positional[0]}`);
  const runs = numberFlag(args, 'runs', 3, 1, 50);
  const timeoutMs = numberFlag(args, 'timeout', 900, 10) * 1000;
  const workloads = selectWorkloads(args.flags.get('only'), args.flags.get('skip'));
  const groups = boolFlag(args, 'together') ? [workloads] : workloads.map((w) => [w]);
  const passThrough = [...args.flags].filter(([name]) => !OWN_FLAGS.includes(name)).map(([name, value]) => `--${name}=${value}`);
  if (!existsSync(loadMjsPath())) throw new UsageError(`${loadMjsPath()} not found (set SQUALL_SHARED_BENCH to the shared bench folder)`);

  const contenders: Contender[] = [{ label: 'Squall', file: 'squall', start: startSquallWithPlc, runs: [], notes: [] }];
  if (!boolFlag(args, 'skip-reference')) {
    const variant = args.flags.get('reference-variant');
    contenders.push({ label: 'reference', file: 'reference', start: () => startReferencePds({ variant }), runs: [], notes: [] });
  }
  const dir = makeRunDir('load-compare');
  // Interleaved (S1, R1, S2, R2...) so a change in the machine's background load hits both alike.
  for (let i = 1; i <= runs; i++) {
    for (const c of contenders) if (!c.unavailable) await runOnce(c, i, groups, passThrough, timeoutMs, dir);
  }

  const sections = [
    `Load comparison, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: workloads ${workloads.join(',')}, ${runs} run(s) per server` +
      `${passThrough.length ? `, load.mjs ${passThrough.join(' ')}` : ''}; each workload in ${groups.length > 1 ? 'its own' : 'one'} load.mjs process.`,
    ...contenders.map(summaryTable),
  ];
  const [squall, reference] = contenders;
  if (reference && squall.runs.length > 0 && reference.runs.length > 0) {
    sections.push(
      '### Squall against the reference (medians; an advantage above 1× means Squall is better)',
      compareRuns(
        squall.runs.map((r) => r.run),
        reference.runs.map((r) => r.run),
      ),
    );
  }
  for (const c of contenders) {
    if (c.notes.length) sections.push(`### Problems: ${c.label}\n\n${c.notes.map((n) => `- ${n}`).join('\n')}`);
  }
  const text = sections.join('\n\n');
  writeFileSync(join(dir, 'summary.md'), text + '\n');
  process.stdout.write(`\n${text}\n\n(results in ${dir})\n`);
  process.exitCode = squall.runs.length > 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof UsageError ? `bench/load-compare: ${err.message}\n` : `bench/load-compare failed: ${(err as Error).stack ?? err}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
