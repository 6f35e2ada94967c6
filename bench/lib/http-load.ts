// The default load generator: node:http with a keep-alive agent, N connections, each sending the
// next GET as soon as the last answer is read. It runs in its own process (http-load-worker.ts) so
// its CPU is not the server's; on 2 cores it still shares the machine, so its CPU use is reported.
import http from 'node:http';
import { createLoadTally, type LoadResult, type LoadRunner } from './load-tally.ts';

export function createHttpLoadRunner(url: string, connections: number, headers: Record<string, string> = {}): LoadRunner {
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new Error(`only http:// targets are supported, got ${target.protocol}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const requestOptions: http.RequestOptions = {
    hostname: target.hostname,
    port: target.port,
    path: target.pathname + target.search,
    method: 'GET',
    agent,
    headers: { accept: 'application/json', ...headers },
  };

  function once(): Promise<{ status: number; bytes: number }> {
    return new Promise((resolve, reject) => {
      const req = http.request(requestOptions, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', reject);
      req.end();
    });
  }

  async function run(durationMs: number): Promise<LoadResult> {
    const tally = createLoadTally();
    const deadline = performance.now() + durationMs;
    const worker = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const { status, bytes } = await once();
          tally.answered(status, bytes, performance.now() - t0);
        } catch (err) {
          tally.failed(err as Error);
          // A refused connection fails instantly; do not spin on it.
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
    return tally.finish();
  }

  return { run, close: () => agent.destroy() };
}
