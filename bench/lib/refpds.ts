// Starts the official reference PDS with the shared launcher (../shared/bench/refpds/start.sh), on ports
// and a state folder of our own so a reference PDS someone else started is neither reused nor stopped.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sharedBenchDir } from './paths.ts';
import { findFreePort, onInterrupt, OutputTail, ServerStartError } from './processes.ts';
import type { Target } from './target.ts';

export interface ReferenceOptions {
  /** REFPDS_VARIANT for start.sh: node22 (default, @atproto/pds 0.5.x) or node20. */
  variant?: string;
  /** The first start installs the PDS (3-4 minutes), hence the long default. */
  startTimeoutMs?: number;
  /** Echo start.sh's progress (install steps) to our stderr. */
  showProgress?: boolean;
  /** PDS_* settings of the benchmark's own (start.sh lets them win over its defaults). */
  env?: Record<string, string>;
}

export const referenceStateDir = join(repoRoot, '.bench', 'refpds-state');

function scriptEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  // As for Squall: the caller's PDS_* variables would otherwise reach the reference PDS (start.sh lets them win).
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('PDS_') && !key.startsWith('REFPDS_')) env[key] = value;
  }
  // The shared folder may be read-only: SQUALL_REFPDS_HOME puts the install somewhere writable.
  const home: Record<string, string> = process.env.SQUALL_REFPDS_HOME ? { REFPDS_HOME: process.env.SQUALL_REFPDS_HOME } : {};
  return { ...env, REFPDS_STATE: referenceStateDir, ...home, ...extra };
}

function runScript(script: string, env: Record<string, string>, timeoutMs: number, showProgress: boolean): Promise<{ code: number | null; stdout: string; stderr: OutputTail }> {
  return new Promise((resolve, reject) => {
    const path = join(sharedBenchDir(), 'refpds', script);
    if (!existsSync(path)) {
      reject(new ServerStartError(`${path} not found (set SQUALL_SHARED_BENCH to the shared bench folder)`));
      return;
    }
    const child = spawn('bash', [path], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const stderr = new OutputTail(6000);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr.push(c);
      if (showProgress) process.stderr.write(c);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function stopReference(): Promise<void> {
  await runScript('stop.sh', scriptEnv({}), 60_000, false);
}

export async function startReferencePds(options: ReferenceOptions = {}): Promise<Target> {
  mkdirSync(referenceStateDir, { recursive: true });
  // A reference PDS left behind by an interrupted run of ours would make start.sh answer "already running".
  await stopReference();
  const [port, plcPort] = [await findFreePort(), await findFreePort()];
  const env = scriptEnv({
    REFPDS_PORT: String(port),
    REFPDS_PLC_PORT: String(plcPort),
    ...(options.variant ? { REFPDS_VARIANT: options.variant } : {}),
    ...options.env,
  });
  const forget = onInterrupt(stopReference);
  const timeoutMs = options.startTimeoutMs ?? 15 * 60_000;
  const result = await runScript('start.sh', env, timeoutMs, options.showProgress ?? true);
  const url = result.stdout.trim().split('\n').pop()?.trim() ?? '';
  const pidFile = join(referenceStateDir, 'pds.pid');
  if (result.code !== 0 || !/^http:\/\/127\.0\.0\.1:\d+$/.test(url) || !existsSync(pidFile)) {
    forget();
    await stopReference();
    const why = result.code === null ? `timed out after ${timeoutMs / 1000} s` : `exit code ${result.code}`;
    throw new ServerStartError(`the reference PDS could not be started (start.sh ${why}): ${result.stderr.toString().split('\n').slice(-8).join('\n')}`);
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return {
    label: 'reference',
    description: referenceDescription(),
    url,
    pid,
    plcUrl: `http://127.0.0.1:${plcPort}`,
    stop: async () => {
      forget();
      await stopReference();
    },
  };
}

/** "@atproto/pds 0.5.35 on node v22.23.3", from the first line the launcher logs. */
function referenceDescription(): string {
  try {
    const first = readFileSync(join(referenceStateDir, 'pds.log'), 'utf8').split('\n')[0];
    const match = /^pds (\S+) \(node (\S+)\)/.exec(first);
    if (match) return `@atproto/pds ${match[1]} on node ${match[2]}`;
  } catch {
    // fall through: the version is a label, not a reason to fail
  }
  return '@atproto/pds (version unknown)';
}
