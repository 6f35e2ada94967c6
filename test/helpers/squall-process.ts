import { spawn, type ChildProcess } from 'node:child_process';

export interface SquallProcessOptions {
  port: number;
  dataDir: string;
  plcUrl: string;
  adminPassword: string;
  env?: Record<string, string>;
  /** Node.js arguments before the entry point (preloads). */
  nodeArgs?: string[];
}

/**
 * Squall as a real child process (`src/cli/main.ts serve`) on 127.0.0.1, for tests that kill it with
 * SIGKILL and start it again on the same data. Resolves once `_health` answers.
 */
export async function startSquallProcess(opts: SquallProcessOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: {
      ...process.env,
      PDS_HOSTNAME: 'localhost',
      PDS_PORT: String(opts.port),
      PDS_DATA_DIRECTORY: opts.dataDir,
      PDS_DID_PLC_URL: opts.plcUrl,
      PDS_RATE_LIMITS_ENABLED: 'false',
      PDS_ADMIN_PASSWORD: opts.adminPassword,
      LOG_LEVEL: 'error',
      ...opts.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it answered`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('server did not start');
    }
    try {
      if ((await fetch(`${base}/xrpc/_health`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills the process with `signal` and waits until it is gone. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
