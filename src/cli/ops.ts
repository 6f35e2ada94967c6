// The operator's data tools, run on the server's machine with its environment (pds.env):
//   backup <dir> [--full]          an online, consistent backup into <dir>/squall-<time>
//   restore <backup> [--data DIR]  restore into an empty data directory, then verify it
//   verify [--data DIR]            verify a data directory at rest (a stopped server's)
//   doctor [--handle H] [--json] [--request-crawl]  why posts may not show up: server, identity, relays, AppView
// Exit status: 0 all good, 1 a mismatch or damage found, 2 refused or wrong usage.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBackup, type BackupProgress } from '../backup/backup.ts';
import { verifyDataDir, type IntegrityReport } from '../backup/integrity.ts';
import { BackupFormatError } from '../backup/manifest.ts';
import { restoreBackup, RestoreRefusedError } from '../backup/restore.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { formatReport, runDoctor } from '../doctor/index.ts';
import { formatBytes, formatDuration, progressLine } from './progress.ts';

export const OPS_USAGE = `  backup <dir> [--full]          online backup of this server's data into <dir>/squall-<time>
                                 (blobs unchanged since the last backup there are hard-linked; --full copies all)
  restore <backup> [--data DIR]  restore a backup into an empty data directory (default: PDS_DATA_DIRECTORY), then verify it
  verify [--data DIR]            verify a stopped server's data directory (repos, record index, blobs, sequencer log)
  doctor [--handle H] [--json] [--backup-dir DIR] [--request-crawl]
                                 check what makes posts invisible: public URL and certificate, firehose, service DID,
                                 PLC, relays, each account's handle, DID document, repo, relay and AppView status,
                                 SMTP, disk, backups (--request-crawl: ask the relays to crawl this host first)`;

export const OPS_COMMANDS = new Set(['backup', 'restore', 'verify', 'doctor']);

export async function runOps(argv: string[], version: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      full: { type: 'boolean' },
      data: { type: 'string' },
      'data-dir': { type: 'string' },
      handle: { type: 'string' },
      json: { type: 'boolean' },
      'backup-dir': { type: 'string' },
      'request-crawl': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  const config = readConfig(values['data-dir'], version);
  try {
    if (command === 'backup') {
      if (args.length !== 1) return usage();
      return await backup(config, resolve(args[0]), values.full === true);
    }
    if (command === 'restore') {
      if (args.length !== 1) return usage();
      return await restore(resolve(args[0]), targetOf(config, values.data));
    }
    if (command === 'verify') {
      const target = targetOf(config, values.data);
      return report(await verifyDataDir({ dbFile: target.dbFile, blobDir: target.blobDir, onProgress: verifyProgress() }));
    }
    if (command === 'doctor') {
      const results = await runDoctor({ config, handle: values.handle, requestCrawl: values['request-crawl'], backupDir: values['backup-dir'] && resolve(values['backup-dir']) });
      process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : formatReport(results));
      return results.some((r) => r.status === 'fail') ? 1 : 0;
    }
    return usage();
  } catch (err) {
    if (err instanceof RestoreRefusedError || err instanceof BackupFormatError) {
      process.stderr.write(`refused: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function usage(): number {
  process.stderr.write(`usage:\n${OPS_USAGE}\n`);
  return 2;
}

function readConfig(dataDir: string | undefined, version: string): Config {
  try {
    return loadConfig(dataDir ? { ...process.env, PDS_DATA_DIRECTORY: dataDir } : process.env, version);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

function targetOf(config: Config, data: string | undefined): { dataDir: string; dbFile: string; blobDir: string } {
  if (data === undefined) return config.storage;
  const dataDir = resolve(data);
  return { dataDir, dbFile: join(dataDir, 'squall.sqlite'), blobDir: join(dataDir, 'blobs') };
}

async function backup(config: Config, root: string, full: boolean): Promise<number> {
  const line = progressLine();
  const result = await createBackup({
    storage: config.storage,
    root,
    incremental: !full,
    server: { version: config.version, hostname: config.service.hostname, serviceDid: config.service.did },
    secretsInEnvironment: Object.values(config.secrets).some((v) => v !== undefined),
    onProgress: (p: BackupProgress) =>
      line.update(
        `${p.phase}: ${p.files}/${p.totalFiles} files, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}${p.etaSeconds === undefined ? '' : `, ETA ${formatDuration(p.etaSeconds)}`}`,
      ),
  });
  line.done();
  const m = result.manifest;
  const seconds = (Date.parse(m.completedAt) - Date.parse(m.startedAt)) / 1000;
  process.stdout.write(
    `backup written: ${result.dir}\n` +
      `  database ${formatBytes(m.database.bytes)} (${m.database.accounts} accounts, ${m.database.repos} repos, seq ${m.database.latestSeq}), snapshot at ${m.snapshotAt}\n` +
      `  blobs ${m.blobs.files} (${formatBytes(m.blobs.bytes)}): ${m.blobs.copied} copied (${formatBytes(m.blobs.copiedBytes)}), ${m.blobs.linked} linked from ${m.incrementalFrom ?? '-'}\n` +
      `  secrets ${m.secrets ? m.secrets.file : 'none (set in the environment)'}; checksums in ${m.checksums.file}\n` +
      `  took ${formatDuration(seconds)}\n`,
  );
  for (const note of m.notes) process.stdout.write(`  note: ${note}\n`);
  for (const problem of result.problems) process.stdout.write(`✗ ${problem}\n`);
  if (result.problems.length > 0) {
    process.stdout.write(`the backup holds everything else, but ${result.problems.length} problems were found in the live data\n`);
    return 1;
  }
  return 0;
}

async function restore(backupDir: string, target: { dataDir: string; dbFile: string; blobDir: string }): Promise<number> {
  const line = progressLine();
  const result = await restoreBackup({
    backup: backupDir,
    target,
    onProgress: (p) => line.update(`restoring: ${p.files}/${p.totalFiles} files, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}`),
    onVerifyProgress: verifyProgress(line),
  });
  line.done();
  const m = result.manifest;
  process.stdout.write(`restored ${result.files} files (${formatBytes(result.bytes)}) from ${backupDir} (taken ${m.snapshotAt} on ${m.hostname}) into ${target.dataDir}\n`);
  if (result.checksumProblems.length > 0) {
    for (const problem of result.checksumProblems) process.stdout.write(`✗ ${problem}\n`);
    process.stdout.write(`restore FAILED: ${result.checksumProblems.length} files do not match the backup's checksums; ${target.dataDir} is incomplete (delete it)\n`);
    return 1;
  }
  return report(result.report!);
}

function verifyProgress(line = progressLine()) {
  return (p: { repos: number; totalRepos: number; blobs: number; totalBlobs: number }) =>
    line.update(p.totalBlobs === 0 ? `verifying repos: ${p.repos}/${p.totalRepos}` : `verifying blobs: ${p.blobs}/${p.totalBlobs}`);
}

function report(result: IntegrityReport): number {
  for (const line of result.checked) process.stdout.write(`checked ${line}\n`);
  for (const note of result.notes) process.stdout.write(`note: ${note}\n`);
  for (const problem of result.problems) process.stdout.write(`✗ ${problem}\n`);
  if (result.problems.length > 0) {
    process.stdout.write(`verification FAILED: ${result.problems.length} mismatches\n`);
    return 1;
  }
  process.stdout.write('verification passed: every repo, index row, blob and event checked matches\n');
  return 0;
}
