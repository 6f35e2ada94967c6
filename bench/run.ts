// `npm run bench`: runs the benchmark sections one after the other, each in its own process so one
// section's warm JIT or leftover heap does not colour the next. See docs/benchmarks.md.
//
//   npm run bench                        every default section that exists
//   npm run bench -- http repo           just those sections
//   npm run bench -- http --reps 1       flags after the names go to every selected section
//   npm run bench -- --list
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './lib/args.ts';
import { repoRoot } from './lib/paths.ts';
import { formatNumber, markdownTable } from './lib/table.ts';

interface Section {
  name: string;
  file: string;
  what: string;
  /** Long sections run only when named. */
  onlyWhenNamed?: boolean;
}

const SECTIONS: readonly Section[] = [
  { name: 'crypto', file: 'crypto.ts', what: 'signatures and hashing' },
  { name: 'cbor', file: 'cbor.ts', what: 'DAG-CBOR encoding and decoding' },
  { name: 'car', file: 'car.ts', what: 'CAR reading and writing' },
  { name: 'repo', file: 'repo.ts', what: 'MST and repository writes' },
  { name: 'lexicon', file: 'lexicon.ts', what: 'record validation' },
  { name: 'sqlite-drivers', file: 'sqlite-drivers.ts', what: 'better-sqlite3 against node:sqlite on the commit and read statements', onlyWhenNamed: true },
  { name: 'metrics', file: 'metrics.ts', what: 'cost of the Prometheus metrics per request (issue 17)', onlyWhenNamed: true },
  { name: 'http', file: 'http.ts', what: 'describeServer and _health: Squall against the reference PDS (issue 3)' },
  { name: 'proxy', file: 'proxy.ts', what: 'a proxied app.bsky.actor.getProfile through Squall, through the reference and direct (issue 13)', onlyWhenNamed: true },
  { name: 'import', file: 'import.ts', what: 'importRepo of 10,000 and 100,000 records: Squall against the reference (issue 15; several minutes)', onlyWhenNamed: true },
  { name: 'migrate-interop', file: 'migrate-interop.ts', what: 'interop check: migrate-out into and migrate-in from the reference PDS, verified (issue 15)', onlyWhenNamed: true },
  { name: 'oauth', file: 'oauth.ts', what: 'CPU per request: an OAuth DPoP token against a session JWT (issue 14)', onlyWhenNamed: true },
  { name: 'load', file: 'load-compare.ts', what: 'the shared load.mjs workloads, Squall against the reference (several minutes)', onlyWhenNamed: true },
  { name: 'warm-writes', file: 'warm-writes.ts', what: "load.mjs's write workloads run again and again on one server: a fresh server's first run against later ones, Squall and the reference (issue 18; minutes)", onlyWhenNamed: true },
  { name: 'blob-wave', file: 'blob-wave.ts', what: "load.mjs's getBlob phase alone: MB/s, p50, p99 and the first wave's latencies, cold and warm (issue 18)", onlyWhenNamed: true },
  { name: 'write-cost', file: 'write-cost.ts', what: 'server CPU per op, RSS and write calls of the write and read paths; --reference adds the reference PDS', onlyWhenNamed: true },
];

let interrupted = false;

type Outcome = { section: Section; status: 'ok' | 'failed' | 'missing'; seconds?: number; detail?: string };

function runSection(section: Section, forwarded: readonly string[]): Promise<Outcome> {
  const path = join(repoRoot, 'bench', section.file);
  if (!existsSync(path)) return Promise.resolve({ section, status: 'missing', detail: `bench/${section.file} does not exist yet` });
  process.stdout.write(`\n## ${section.name}: ${section.what}\n\n`);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path, ...forwarded], { cwd: repoRoot, stdio: 'inherit' });
    // ^C reaches the whole foreground process group: let the section stop its servers, then stop here.
    const onInterrupt = () => (interrupted = true);
    process.on('SIGINT', onInterrupt);
    child.once('close', (code, signal) => {
      process.off('SIGINT', onInterrupt);
      const seconds = (performance.now() - started) / 1000;
      resolve(code === 0 ? { section, status: 'ok', seconds } : { section, status: 'failed', seconds, detail: `exit ${code ?? signal}` });
    });
  });
}

function selectSections(names: readonly string[]): Section[] {
  if (names.length === 0) return SECTIONS.filter((s) => !s.onlyWhenNamed);
  const unknown = names.filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length) throw new UsageError(`unknown section(s): ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
  return SECTIONS.filter((s) => names.includes(s.name));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--list') || argv.includes('--help')) {
    const rows = SECTIONS.map((s) => [s.name, existsSync(join(repoRoot, 'bench', s.file)) ? `bench/${s.file}` : `bench/${s.file} (not written yet)`, s.onlyWhenNamed ? 'when named' : 'yes', s.what]);
    process.stdout.write(`${markdownTable(['section', 'script', 'runs by default', 'measures'], rows)}\n`);
    return;
  }
  // Section names come first; from the first flag on, everything is passed through untouched.
  const firstFlag = argv.findIndex((a) => a.startsWith('--'));
  const names = firstFlag === -1 ? argv : argv.slice(0, firstFlag);
  const forwarded = firstFlag === -1 ? [] : argv.slice(firstFlag);
  const sections = selectSections(names);
  const outcomes: Outcome[] = [];
  for (const section of sections) {
    if (interrupted) break;
    outcomes.push(await runSection(section, forwarded));
  }
  const rows = outcomes.map((o) => [o.section.name, o.status, formatNumber(o.seconds, 1), o.detail ?? '']);
  process.stdout.write(`\n## bench summary\n\n${markdownTable(['section', 'result', 'seconds', 'note'], rows, [2])}\n`);
  process.exitCode = outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(err instanceof UsageError ? `bench: ${err.message}\n` : `bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
