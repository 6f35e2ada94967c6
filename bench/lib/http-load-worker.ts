// Entry point of the load-generator process (forked by http-measure.ts). Protocol over IPC:
//   parent -> {type:'start', url, connections, warmupMs, durationMs, client}
//   worker -> {type:'warm'}              (warm-up done, connections open and idle)
//   parent -> {type:'go'}                (the parent has sampled the server's CPU)
//   worker -> {type:'result', result}    (then the parent samples the CPU again)
import { createHttpLoadRunner } from './http-load.ts';
import type { LoadResult } from './load-tally.ts';
import { createNetLoadRunner } from './net-load.ts';

/** node:http's keep-alive client, or the lean raw-socket one (net-load.ts). */
export type LoadClient = 'http' | 'net';

type FromParent =
  | { type: 'start'; url: string; connections: number; warmupMs: number; durationMs: number; client: LoadClient; headers?: Record<string, string> }
  | { type: 'go' };
export type FromWorker = { type: 'warm'; warmup: LoadResult } | { type: 'result'; result: LoadResult } | { type: 'failed'; message: string };

function send(message: FromWorker): Promise<void> {
  return new Promise((resolve, reject) => process.send!(message, (err: Error | null) => (err ? reject(err) : resolve())));
}

function next(type: FromParent['type']): Promise<FromParent> {
  return new Promise((resolve) => {
    const onMessage = (message: FromParent) => {
      if (message.type !== type) return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('http-load-worker must be started with an IPC channel (child_process.fork)');
  const start = (await next('start')) as Extract<FromParent, { type: 'start' }>;
  const runner = (start.client === 'net' ? createNetLoadRunner : createHttpLoadRunner)(start.url, start.connections, start.headers);
  try {
    const warmup = await runner.run(start.warmupMs);
    const go = next('go');
    await send({ type: 'warm', warmup });
    await go;
    await send({ type: 'result', result: await runner.run(start.durationMs) });
  } finally {
    runner.close();
  }
}

main().then(
  () => process.disconnect(),
  async (err: unknown) => {
    await send({ type: 'failed', message: (err as Error).stack ?? String(err) }).catch(() => {});
    process.exit(1);
  },
);
