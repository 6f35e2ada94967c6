// The HTTP load generator: N keep-alive connections, each sending the next GET as soon as the last
// answer is read, for a fixed time. It runs in its own process (http-load-worker.ts) so its CPU is not
// the server's; on 2 cores it still shares the machine, which is why its own CPU use is reported.
import http from 'node:http';
import { percentile } from './stats.ts';

export interface LoadOptions {
  /** Full URL to GET, on 127.0.0.1. */
  url: string;
  connections: number;
  durationMs: number;
}

export interface LoadResult {
  /** Answers with a 2xx status that arrived within the window. */
  ok: number;
  /** Answers with any other status. */
  non2xx: number;
  /** Requests that failed without an answer (reset, refused, timeout). */
  errors: number;
  errorSamples: string[];
  elapsedMs: number;
  requestsPerSecond: number;
  latencyMs: { p50?: number; p90?: number; p99?: number; max?: number };
  bodyBytes: number;
  /** Load generator CPU over the window, as a fraction of one core (near 1.0 = it may be the bottleneck). */
  clientCpuCores: number;
}

export interface LoadRunner {
  /** Runs one window; call again for the next (a warm-up, then the measurement) on the same connections. */
  run(durationMs: number): Promise<LoadResult>;
  close(): void;
}

export function createLoadRunner(url: string, connections: number): LoadRunner {
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new Error(`only http:// targets are supported, got ${target.protocol}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const requestOptions: http.RequestOptions = {
    hostname: target.hostname,
    port: target.port,
    path: target.pathname + target.search,
    method: 'GET',
    agent,
    headers: { accept: 'application/json' },
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
    const latencies: number[] = [];
    const errorSamples: string[] = [];
    let non2xx = 0;
    let errors = 0;
    let bodyBytes = 0;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    const deadline = start + durationMs;
    let lastEnd = start;
    const worker = async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          const { status, bytes } = await once();
          const t1 = performance.now();
          lastEnd = t1;
          bodyBytes += bytes;
          if (status >= 200 && status < 300) latencies.push(t1 - t0);
          else non2xx++;
        } catch (err) {
          lastEnd = performance.now();
          errors++;
          if (errorSamples.length < 5) errorSamples.push((err as Error).message);
          // A refused connection fails instantly; do not spin on it.
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    };
    await Promise.all(Array.from({ length: connections }, worker));
    // Requests started before the deadline are all counted, so the window ends when the last one did.
    const elapsedMs = lastEnd - start;
    const cpu = process.cpuUsage(cpuStart);
    latencies.sort((a, b) => a - b);
    const ok = latencies.length;
    return {
      ok,
      non2xx,
      errors,
      errorSamples,
      elapsedMs,
      requestsPerSecond: elapsedMs > 0 ? (ok / elapsedMs) * 1000 : 0,
      latencyMs: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies[ok - 1],
      },
      bodyBytes,
      clientCpuCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
    };
  }

  return { run, close: () => agent.destroy() };
}
