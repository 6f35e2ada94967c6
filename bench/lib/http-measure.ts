// Measures one endpoint of one server: forks the load generator, lets it warm up, then brackets the
// measured window with two /proc samples of the server process, giving server CPU per request.
import { fork } from 'node:child_process';
import { numberFlag, UsageError, type ParsedArgs } from './args.ts';
import type { FromWorker, LoadClient } from './http-load-worker.ts';
import type { LoadResult } from './load-tally.ts';
import { OutputTail } from './processes.ts';
import { sampleProcess } from './proc.ts';
import type { Target } from './target.ts';

export interface MeasureOptions {
  client: LoadClient;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Sent with every request (an Authorization header, say). */
  headers?: Record<string, string>;
}

/** The load flags every HTTP benchmark takes, with their defaults. */
export const MEASURE_FLAGS = ['client', 'connections', 'duration', 'warmup'] as const;

/** `--client http|net --connections 8 --duration 5 --warmup 1` (seconds) as MeasureOptions. */
export function measureOptionsFromArgs(args: ParsedArgs): MeasureOptions {
  const client = args.flags.get('client') ?? 'http';
  if (client !== 'http' && client !== 'net') throw new UsageError(`--client must be http or net, got "${client}"`);
  return {
    client,
    connections: numberFlag(args, 'connections', 8, 1, 1024),
    durationMs: numberFlag(args, 'duration', 5, 0.5, 600) * 1000,
    warmupMs: numberFlag(args, 'warmup', 1, 0, 600) * 1000,
  };
}

export interface Measurement {
  load: LoadResult;
  /** Server CPU (user + system, all threads) during the window. */
  serverCpuUs: number;
  serverCpuUsPerRequest?: number;
  /** Server CPU over the window as a fraction of one core. */
  serverCpuCores: number;
  serverRssBytes: number;
}

export class MeasureError extends Error {}

export async function measureEndpoint(target: Target, path: string, options: MeasureOptions): Promise<Measurement> {
  const worker = fork(new URL('./http-load-worker.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  const stderr = new OutputTail();
  worker.stderr?.on('data', (c: Buffer) => stderr.push(c));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    const messages = messageQueue(worker, stderr);
    worker.send({ type: 'start', url: target.url + path, connections: options.connections, client: options.client, warmupMs: options.warmupMs, durationMs: options.durationMs, headers: options.headers });
    await messages.expect('warm');
    const before = sampleProcess(target.pid);
    if (!before) throw new MeasureError(`the ${target.label} server (pid ${target.pid}) is gone`);
    worker.send({ type: 'go' });
    const { result } = (await messages.expect('result')) as Extract<FromWorker, { type: 'result' }>;
    const after = sampleProcess(target.pid);
    if (!after) throw new MeasureError(`the ${target.label} server (pid ${target.pid}) died during the measurement`);
    const serverCpuUs = after.cpuUs - before.cpuUs;
    const answered = result.ok + result.non2xx;
    return {
      load: result,
      serverCpuUs,
      serverCpuUsPerRequest: answered > 0 ? serverCpuUs / answered : undefined,
      serverCpuCores: serverCpuUs / 1000 / result.elapsedMs,
      serverRssBytes: after.rssBytes,
    };
  } finally {
    if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await exited;
  }
}

/** Awaits the worker's messages in order, failing fast if it reports an error or exits. */
function messageQueue(worker: ReturnType<typeof fork>, stderr: OutputTail) {
  const queue: FromWorker[] = [];
  let wake: (() => void) | undefined;
  let ended: string | undefined;
  worker.on('message', (m: FromWorker) => {
    queue.push(m);
    wake?.();
  });
  worker.once('exit', (code, signal) => {
    ended = `the load generator exited (${code ?? signal}) ${stderr}`.trim();
    wake?.();
  });
  return {
    async expect(type: FromWorker['type']): Promise<FromWorker> {
      for (;;) {
        const message = queue.shift();
        if (message?.type === 'failed') throw new MeasureError(`the load generator failed: ${message.message}`);
        if (message?.type === type) return message;
        if (message) continue;
        if (ended) throw new MeasureError(ended);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
