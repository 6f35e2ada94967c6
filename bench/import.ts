// Issue 15: importing a repo (com.atproto.repo.importRepo) of 10,000 and 100,000 records, Squall
// against the reference PDS in the same run: records/s, server CPU, and the server's peak RSS
// while it imports. The source repo is built on the reference with applyWrites of 200 creates;
// Squall imports it the way a migration does (createAccount with the DID and a service token the
// reference signs, then importRepo), the reference into a fresh account of its own (it checks
// neither the DID nor the signature). Every import goes into a fresh account: the reference
// imports only what differs from the account's repo, so a second import of the same CAR into
// one account costs it almost nothing. Squall's account is deleted (admin) and created again
// between imports, with a new service token. See docs/benchmarks.md.
//
//   node --import tsx bench/import.ts [--sizes 10000,100000] [--reps 2] [--reference-variant node20]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { numberFlag, parseArgs, rejectUnknownFlags, UsageError } from './lib/args.ts';
import { makeRunDir } from './lib/paths.ts';
import { resetPeakRss, sampleProcess } from './lib/proc.ts';
import { startReferencePds } from './lib/refpds.ts';
import { startSquall } from './lib/squall.ts';
import { median } from './lib/stats.ts';
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';
import type { Target } from './lib/target.ts';

const GOAL_RATIO = 5;
const ADMIN_PASSWORD = 'bench-admin-password-0123';

interface Account {
  did: string;
  handle: string;
  accessJwt: string;
}

interface ImportRun {
  seconds: number;
  recordsPerSecond: number;
  cpuSeconds: number;
  /** RSS before the request, and the highest RSS until the answer (VmHWM reset before; else sampled every 20 ms). */
  rssBeforeMb: number;
  peakRssMb: number;
  /** 1-minute load average of the machine when the import ended. */
  load: number;
}

async function xrpc<T>(url: string, nsid: string, opts: { token?: string; basic?: string; body?: unknown; query?: Record<string, string>; raw?: Uint8Array; type?: string } = {}): Promise<T> {
  const target = new URL(`${url}/xrpc/${nsid}`);
  for (const [k, v] of Object.entries(opts.query ?? {})) target.searchParams.set(k, v);
  const post = opts.body !== undefined || opts.raw !== undefined;
  const res = await fetch(target, {
    method: post ? 'POST' : 'GET',
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.basic ? { authorization: `Basic ${Buffer.from(opts.basic).toString('base64')}` } : {}),
      ...(post ? { 'content-type': opts.type ?? 'application/json' } : {}),
    },
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  });
  if (!res.ok) throw new Error(`${nsid} at ${url}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : new Uint8Array(await res.arrayBuffer())) as T;
}

async function createAccount(url: string, handle: string, extra: { did?: string; token?: string } = {}): Promise<Account> {
  const body = { handle, email: `${handle.split('.')[0]}@example.com`, password: 'bench-password-1', ...(extra.did ? { did: extra.did } : {}) };
  const created = await xrpc<Account>(url, 'com.atproto.server.createAccount', { body, token: extra.token });
  return { did: created.did, handle, accessJwt: created.accessJwt };
}

/** `count` posts by applyWrites of 200 creates, as load.mjs populates a repo. */
async function populate(url: string, account: Account, count: number): Promise<number> {
  const started = performance.now();
  for (let start = 0; start < count; start += 200) {
    const writes = Array.from({ length: Math.min(200, count - start) }, (_, i) => ({
      $type: 'com.atproto.repo.applyWrites#create',
      collection: 'app.bsky.feed.post',
      value: { $type: 'app.bsky.feed.post', text: `bench post ${start + i}: a line of text of about the length people write`, createdAt: new Date().toISOString() },
    }));
    await xrpc(url, 'com.atproto.repo.applyWrites', { token: account.accessJwt, body: { repo: account.did, writes } });
  }
  return count / ((performance.now() - started) / 1000);
}

async function timeImport(target: Target, account: Account, car: Uint8Array, records: number): Promise<ImportRun> {
  const exactPeak = resetPeakRss(target.pid);
  const before = sampleProcess(target.pid);
  if (!before) throw new Error(`${target.label} is not running`);
  let peak = before.rssBytes;
  const sampler = setInterval(() => {
    const now = sampleProcess(target.pid);
    if (now && now.rssBytes > peak) peak = now.rssBytes;
  }, 20);
  const started = performance.now();
  try {
    await xrpc(target.url, 'com.atproto.repo.importRepo', { token: account.accessJwt, raw: car, type: 'application/vnd.ipld.car' });
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const after = sampleProcess(target.pid)!;
  peak = Math.max(peak, after.rssBytes, exactPeak ? after.peakRssBytes : 0);
  return {
    seconds,
    recordsPerSecond: records / seconds,
    cpuSeconds: (after.cpuUs - before.cpuUs) / 1e6,
    rssBeforeMb: before.rssBytes / 1e6,
    peakRssMb: peak / 1e6,
    load: loadavg()[0],
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  rejectUnknownFlags(args, ['sizes', 'reps', 'reference-variant']);
  const sizes = (args.flags.get('sizes') ?? '10000,100000').split(',').map((s) => Number(s));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError('--sizes takes record counts, like 10000,100000');
  const reps = numberFlag(args, 'reps', 2, 1, 10);
  const runDir = makeRunDir('import');

  const reference = await startReferencePds({ variant: args.flags.get('reference-variant'), env: { PDS_MAX_REPO_IMPORT_SIZE: String(2 * 1024 ** 3) } });
  let squall: Target | undefined;
  try {
    squall = await startSquall({ plcUrl: reference.plcUrl, env: { PDS_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    const squallUrl = squall.url;
    process.stderr.write(`reference: ${reference.description}\nSquall: ${squall.description}\nmachine: ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    const squallDid = (await xrpc<{ did: string }>(squall.url, 'com.atproto.server.describeServer')).did;
    const results: Array<{ size: number; carBytes: number; populatePerSecond: number; runs: Record<string, ImportRun[]> }> = [];
    for (const size of sizes) {
      const source = await createAccount(reference.url, `src${size}.test`);
      const populatePerSecond = await populate(reference.url, source, size);
      const car = await xrpc<Uint8Array>(reference.url, 'com.atproto.sync.getRepo', { query: { did: source.did } });
      process.stderr.write(`${size} records on the reference (${formatNumber(populatePerSecond)} records/s to write), CAR of ${(car.length / 1e6).toFixed(1)} MB\n`);
      let intoSquall: Account | undefined;
      /** A fresh arriving account on Squall for the source DID (the previous one deleted first). */
      const arriveAtSquall = async (): Promise<Account> => {
        if (intoSquall) await xrpc(squallUrl, 'com.atproto.admin.deleteAccount', { basic: `admin:${ADMIN_PASSWORD}`, body: { did: source.did } });
        const { token } = await xrpc<{ token: string }>(reference.url, 'com.atproto.server.getServiceAuth', { token: source.accessJwt, query: { aud: squallDid, lxm: 'com.atproto.server.createAccount' } });
        intoSquall = await createAccount(squallUrl, `src${size}.test`, { did: source.did, token });
        return intoSquall;
      };
      const runs: Record<string, ImportRun[]> = { reference: [], Squall: [] };
      for (let rep = 0; rep < reps; rep++) {
        // alternate which server goes first, so neither always meets the other's leftovers
        const order = rep % 2 === 0 ? (['reference', 'Squall'] as const) : (['Squall', 'reference'] as const);
        for (const label of order) {
          const run =
            label === 'reference'
              ? await timeImport(reference, await createAccount(reference.url, `imp${size}-${rep}.test`), car, size)
              : await timeImport(squall, await arriveAtSquall(), car, size);
          runs[label].push(run);
          process.stderr.write(
            `  ${label} rep ${rep + 1}: ${run.seconds.toFixed(2)} s, ${formatNumber(run.recordsPerSecond)} records/s, CPU ${run.cpuSeconds.toFixed(2)} s, peak RSS ${run.peakRssMb.toFixed(0)} MB (${run.rssBeforeMb.toFixed(0)} before), load ${run.load.toFixed(1)}\n`,
          );
        }
      }
      results.push({ size, carBytes: car.length, populatePerSecond, runs });
    }

    const rows = results.map(({ size, carBytes, runs }) => {
      const med = (label: string, pick: (r: ImportRun) => number) => median(runs[label].map(pick));
      const refRate = med('reference', (r) => r.recordsPerSecond);
      const ourRate = med('Squall', (r) => r.recordsPerSecond);
      const refCpu = med('reference', (r) => r.cpuSeconds);
      const ourCpu = med('Squall', (r) => r.cpuSeconds);
      const rss = (label: string) =>
        `${formatNumber(med(label, (r) => r.rssBeforeMb))} → ${formatNumber(med(label, (r) => r.peakRssMb))} (+${formatNumber(med(label, (r) => r.peakRssMb - r.rssBeforeMb))})`;
      const loads = [...runs.reference, ...runs.Squall].map((r) => r.load);
      return [
        formatNumber(size),
        (carBytes / 1e6).toFixed(1),
        formatNumber(refRate),
        formatNumber(ourRate),
        formatRatio(ourRate !== undefined && refRate !== undefined ? ourRate / refRate : undefined),
        formatNumber(refCpu, 2),
        formatNumber(ourCpu, 2),
        formatRatio(refCpu !== undefined && ourCpu ? refCpu / ourCpu : undefined),
        rss('reference'),
        rss('Squall'),
        `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
      ];
    });
    const table = markdownTable(
      [
        'records',
        'CAR MB',
        'reference records/s',
        'Squall records/s',
        'Squall ÷ reference',
        'reference CPU s',
        'Squall CPU s',
        'reference ÷ Squall CPU',
        'reference RSS MB: idle → peak (+)',
        'Squall RSS MB: idle → peak (+)',
        'load average',
      ],
      rows,
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    process.stdout.write(`\n${table}\n\nmedian of ${reps} imports each; aim: Squall at least ${GOAL_RATIO}× the reference's records/s, memory flat in repo size\n`);
    writeFileSync(join(runDir, 'import.json'), JSON.stringify({ reference: reference.description, squall: squall.description, load: loadavg(), results }, null, 2));
    process.stderr.write(`results in ${runDir}\n`);
  } finally {
    await squall?.stop();
    await reference.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof UsageError ? '' : 'import benchmark failed: '}${(err as Error).message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
