// Shared by the data tools (backup, restore, verify, doctor): they run on the server's machine
// with its environment and read the data directory, rather than calling a running server.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IntegrityReport } from '../../backup/integrity.ts';
import { ConfigError, loadConfig, type Config } from '../../config.ts';
import { DatabaseInUseError, lockDatabase, type ServerLock } from '../../db/server-lock.ts';
import { CliError, stringOption, type CommandInput } from '../command.ts';
import { progressLine } from '../progress.ts';
import { packageVersion } from '../version.ts';

/** The server's configuration from the environment, with `--data-dir` standing for PDS_DATA_DIRECTORY. */
export function serverConfig(input: CommandInput<unknown>): Config {
  const dataDir = stringOption(input.options, 'data-dir');
  const env = dataDir ? { ...input.io.env, PDS_DATA_DIRECTORY: resolve(input.io.cwd, dataDir) } : input.io.env;
  try {
    return loadConfig(env, packageVersion());
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`invalid configuration: ${err.message}`);
    throw err;
  }
}

export interface DataTarget {
  dataDir: string;
  dbFile: string;
  blobDir: string;
}

/** `--data DIR` (a directory to restore into or verify), else the configured data directory. */
export function dataTarget(input: CommandInput<unknown>, config: Config): DataTarget {
  const data = stringOption(input.options, 'data');
  if (data === undefined) return config.storage;
  const dataDir = resolve(input.io.cwd, data);
  return { dataDir, dbFile: join(dataDir, 'squall.sqlite'), blobDir: join(dataDir, 'blobs') };
}

/** Errors that mean no lock file can be made beside the database: read-only media or a directory not ours. */
const CANNOT_WRITE = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * Runs `fn` on data no server is using: holds the database's server lock meanwhile (db/server-lock.ts),
 * so a running server is refused (what `tool` reads would change under it) and none starts until it
 * is done. Where no lock file can be made (read-only media), no server can run either: `fn` runs as is.
 */
export async function whileNoServerRuns<T>(dbFile: string, tool: string, fn: () => Promise<T>): Promise<T> {
  let lock: ServerLock | undefined;
  try {
    // No database, no server: `fn` says what is missing (and no lock file is left in a wrong directory).
    if (existsSync(dbFile)) lock = lockDatabase(dbFile);
  } catch (err) {
    if (err instanceof DatabaseInUseError) throw new CliError(`a Squall server is running on ${dbFile}: ${tool} reads a stopped server's data (stop it first)`, 1);
    if (!CANNOT_WRITE.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  try {
    return await fn();
  } finally {
    lock?.release();
  }
}

export function verifyProgress(line: ReturnType<typeof progressLine>) {
  return (p: { repos: number; totalRepos: number; blobs: number; totalBlobs: number }) =>
    line.update(p.totalBlobs === 0 ? `verifying repos: ${p.repos}/${p.totalRepos}` : `verifying blobs: ${p.blobs}/${p.totalBlobs}`);
}

/** Prints what verification checked and found; the exit code (1 on any mismatch). */
export function printIntegrity(out: (text: string) => void, result: IntegrityReport): number {
  for (const line of result.checked) out(`checked ${line}\n`);
  for (const note of result.notes) out(`note: ${note}\n`);
  for (const problem of result.problems) out(`✗ ${problem}\n`);
  if (result.problems.length > 0) {
    out(`verification FAILED: ${result.problems.length} mismatches\n`);
    return 1;
  }
  out('verification passed: every repo, index row, blob and event checked matches\n');
  return 0;
}
