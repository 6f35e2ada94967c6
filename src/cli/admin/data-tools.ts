// Shared by the data tools (backup, restore, verify, doctor): they run on the server's machine
// with its environment and read the data directory, rather than calling a running server.
import { join, resolve } from 'node:path';
import type { IntegrityReport } from '../../backup/integrity.ts';
import { ConfigError, loadConfig, type Config } from '../../config.ts';
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
