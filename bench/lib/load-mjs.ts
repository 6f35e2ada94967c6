// Runs the shared load generator (../shared/bench/load.mjs) once against a server, in its own process.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadRun } from './load-summary.ts';
import { sharedBenchDir } from './paths.ts';
import { OutputTail } from './processes.ts';
import type { Target } from './target.ts';

export interface LoadMjsResult {
  /** The parsed JSON result, when load.mjs got far enough to write one. */
  run?: LoadRun;
  /** Why there is no result, or why it is incomplete. */
  failure?: string;
}

export function loadMjsPath(): string {
  return join(sharedBenchDir(), 'load.mjs');
}

/**
 * `extraArgs` go to load.mjs as they are (`--only b`, `--profile full`...). Exit code 3 means some
 * requests failed but the JSON is complete; any other failure leaves the reason and stderr's tail.
 * With `echo`, load.mjs's table and progress lines are shown as they come.
 */
export function runLoadMjs(target: Target, outFile: string, extraArgs: readonly string[], timeoutMs: number, echo = true): Promise<LoadMjsResult> {
  const args = [loadMjsPath(), target.url, '--pid', String(target.pid), '--out', outFile, '--handle-domain', '.test', '--format', 'table', ...extraArgs];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr = new OutputTail();
    child.stdout.on('data', (c: Buffer) => echo && process.stdout.write(c));
    child.stderr.on('data', (c: Buffer) => {
      stderr.push(c);
      if (echo) process.stderr.write(c);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => resolve({ failure: `could not run load.mjs: ${err.message}` }));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const run = code === 0 || code === 3 ? readRun(outFile) : undefined;
      if (run) resolve({ run });
      else if (timedOut) resolve({ failure: `load.mjs did not finish within ${timeoutMs / 1000} s` });
      else resolve({ failure: `load.mjs exited (${code ?? signal}): ${lastLines(stderr.toString())}` });
    });
  });
}

function readRun(file: string): LoadRun | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LoadRun;
  } catch {
    return undefined;
  }
}

/** The error line of a crash, without the progress lines before it. */
function lastLines(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const failed = lines.findIndex((l) => l.startsWith('load.mjs failed:'));
  return (failed === -1 ? lines.slice(-3).join(' ') : lines[failed].replace(/^load\.mjs failed: (Error: )?/, '')).slice(0, 500);
}
