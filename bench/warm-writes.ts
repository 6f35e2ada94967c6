// The shared load generator's write workloads, run again and again on the same server: what a
// fresh server's first run costs per write (the figure bench/load-compare.ts reports), against the
// same workload once the server has run it before. Squall and the reference PDS, side by side.
//
//   node --import tsx bench/warm-writes.ts [--rounds 3] [--repeat 4] [--only b,d]
//        [--skip-reference] [--reference-variant node20] [--timeout 600]
//
// Each round starts each server afresh (Squall, then the reference), runs load.mjs --only a once
// (the accounts, which load-compare runs first too), then each selected workload --repeat times,
// every repetition in a load.mjs process of its own, with its default (quick) sizes. Repetition 1
// is exactly what load-compare measures; the later ones differ only in what ran before them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { boolFlag, numberFlag, parseArgs, rejectUnknownFlags, UsageError } from './lib/args.ts';
import { runLoadMjs } from './lib/load-mjs.ts';
import { makeRunDir } from './lib/paths.ts';
import { startReferencePds } from './lib/refpds.ts';
import { startSquallWithPlc } from './lib/squall.ts';
import { median, ratio } from './lib/stats.ts';
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';
import type { Target } from './lib/target.ts';

/** The figures read per workload: load.mjs's entry name and its throughput field. */
const MEASURED: Record<string, readonly { entry: string; label: string; rate: string }[]> = {
  b: [
    { entry: 'createRecord_distinct', label: 'createRecord, distinct accounts', rate: 'ops_per_s' },
    { entry: 'createRecord_one_account', label: 'createRecord, one account', rate: 'ops_per_s' },
  ],
  d: [{ entry: 'applyWrites', label: 'applyWrites 10 creates (CPU per call)', rate: 'records_per_s' }],
};

interface Sample {
  cpuMsPerOp?: number;
  rate?: number;
}

/** samples[server][entry][repetition] = one sample per round */
type Samples = Map<string, Map<string, Sample[][]>>;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

async function runRound(
  server: { label: string; start: () => Promise<Target> },
  workloads: string[],
  repeat: number,
  timeoutMs: number,
  dir: string,
  round: number,
  samples: Samples,
  notes: string[],
): Promise<void> {
  const target = await server.start();
  process.stderr.write(`\n== ${server.label} round ${round}: ${target.description} (pid ${target.pid})\n`);
  const file = (name: string) => join(dir, `${server.label}-round${round}-${name}.json`);
  try {
    const accounts = await runLoadMjs(target, file('a'), ['--only', 'a'], timeoutMs, false);
    if (!accounts.run) throw new Error(`createAccount failed: ${accounts.failure}`);
    for (let rep = 1; rep <= repeat; rep++) {
      for (const w of workloads) {
        const result = await runLoadMjs(target, file(`${w}${rep}`), ['--only', w], timeoutMs, false);
        if (!result.run) {
          notes.push(`${server.label} round ${round}, ${w} repetition ${rep}: ${result.failure}`);
          continue;
        }
        for (const { entry, rate } of MEASURED[w]) {
          const e = result.run.workloads?.[entry];
          const sample: Sample = { cpuMsPerOp: num(e?.server_cpu_ms_per_op), rate: num(e?.[rate]) };
          const byEntry = samples.get(server.label) ?? new Map<string, Sample[][]>();
          samples.set(server.label, byEntry);
          const reps = byEntry.get(entry) ?? [];
          byEntry.set(entry, reps);
          (reps[rep - 1] ??= []).push(sample);
          process.stderr.write(`   ${entry} #${rep}: ${formatNumber(sample.rate, 1)}/s, ${formatNumber(sample.cpuMsPerOp, 2)} ms CPU per op\n`);
        }
      }
    }
  } finally {
    await target.stop();
  }
}

function table(samples: Samples, workloads: string[], repeat: number, withReference: boolean): string {
  const rows: string[][] = [];
  for (const w of workloads) {
    for (const { entry, label } of MEASURED[w]) {
      for (let rep = 1; rep <= repeat; rep++) {
        const at = (server: string) => samples.get(server)?.get(entry)?.[rep - 1] ?? [];
        const s = at('Squall');
        const r = at('reference');
        const sCpu = median(s.map((x) => x.cpuMsPerOp));
        const rCpu = median(r.map((x) => x.cpuMsPerOp));
        const sRate = median(s.map((x) => x.rate));
        const rRate = median(r.map((x) => x.rate));
        const row = [label, String(rep), formatNumber(sRate, 0), formatNumber(sCpu, 2), s.map((x) => formatNumber(x.cpuMsPerOp, 2)).join(' / ')];
        if (withReference) {
          row.push(formatNumber(rRate, 0), formatNumber(rCpu, 2), formatRatio(ratio(sRate, rRate)), formatRatio(ratio(rCpu, sCpu)));
        }
        rows.push(row);
      }
    }
  }
  const header = ['workload', 'repetition', 'Squall ops/s', 'Squall CPU ms/op', 'Squall CPU, each round'];
  if (withReference) header.push('reference ops/s', 'reference CPU ms/op', 'ops/s advantage', 'CPU advantage');
  return markdownTable(header, rows, withReference ? [1, 2, 3, 5, 6, 7, 8] : [1, 2, 3]);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  rejectUnknownFlags(args, ['rounds', 'repeat', 'only', 'skip-reference', 'reference-variant', 'timeout']);
  if (args.positional.length > 0) throw new UsageError(`unexpected argument: ${args.positional[0]}`);
  const rounds = numberFlag(args, 'rounds', 3, 1, 20);
  const repeat = numberFlag(args, 'repeat', 4, 1, 20);
  const timeoutMs = numberFlag(args, 'timeout', 600, 10) * 1000;
  const workloads = (args.flags.get('only') ?? 'b,d').split(',').map((w) => w.trim());
  const unknown = workloads.filter((w) => !(w in MEASURED));
  if (unknown.length > 0) throw new UsageError(`--only takes write workloads among ${Object.keys(MEASURED).join(',')}, not ${unknown.join(',')}`);

  const servers = [{ label: 'Squall', start: startSquallWithPlc }];
  const withReference = !boolFlag(args, 'skip-reference');
  if (withReference) {
    const variant = args.flags.get('reference-variant');
    servers.push({ label: 'reference', start: () => startReferencePds({ variant }) });
  }
  const dir = makeRunDir('warm-writes');
  const samples: Samples = new Map();
  const notes: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) await runRound(server, workloads, repeat, timeoutMs, dir, round, samples, notes);
  }
  const text = [
    `Warm writes, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${rounds} round(s), workloads ${workloads.join(',')} ` +
      `each run ${repeat} times on one fresh server per round (load.mjs quick sizes; repetition 1 is load-compare's figure). Medians over the rounds.`,
    table(samples, workloads, repeat, withReference),
    ...(notes.length ? [`Problems:\n\n${notes.map((n) => `- ${n}`).join('\n')}`] : []),
  ].join('\n\n');
  writeFileSync(join(dir, 'summary.md'), text + '\n');
  process.stdout.write(`\n${text}\n\n(results in ${dir})\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof UsageError ? `bench/warm-writes: ${err.message}\n` : `bench/warm-writes failed: ${(err as Error).stack ?? err}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
