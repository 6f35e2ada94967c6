// Child-process plumbing for the benchmarks: free ports, waiting for a server to answer, stopping it,
// and making sure nothing we started outlives us when the run fails or is interrupted.
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A port that was free a moment ago on 127.0.0.1 (the kernel picks it; we release it for the child). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export class ServerStartError extends Error {}

/** Polls `url` until it answers 200, the deadline passes, or `stillStarting` says the process died. */
export async function waitForHttpOk(url: string, timeoutMs: number, stillStarting: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const dead = stillStarting();
    if (dead) throw new ServerStartError(dead);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new ServerStartError(`${url} did not answer 200 within ${timeoutMs} ms (${last})`);
}

/** SIGTERM, then SIGKILL if the child has not exited after `graceMs`. Resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

const cleanups = new Set<() => Promise<void>>();
let handlersInstalled = false;

/**
 * Registers `fn` to run if the script is interrupted (SIGINT/SIGTERM) before the caller removes it,
 * so a ^C in the middle of a benchmark does not leave servers running. Returns the remover.
 */
export function onInterrupt(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  if (!handlersInstalled) {
    handlersInstalled = true;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        process.stderr.write(`\n${signal}: stopping the servers this benchmark started\n`);
        void Promise.allSettled([...cleanups].map((f) => f())).then(() => process.exit(130));
      });
    }
  }
  return () => cleanups.delete(fn);
}

/** Keeps the last `max` characters written to a stream, to explain a failure without flooding the terminal. */
export class OutputTail {
  private text = '';
  constructor(private readonly max = 4000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.max);
  }
  toString(): string {
    return this.text.trim();
  }
}
