// What a load generator counts during one window, whichever HTTP client sends the requests.
import { percentile } from './stats.ts';

export interface LoadResult {
  /** Answers with a 2xx status that arrived within the window. */
  ok: number;
  /** Answers with any other status. */
  non2xx: number;
  /** Requests that failed without an answer (reset, refused, timeout, unframeable answer). */
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

export interface LoadTally {
  answered(status: number, bodyBytes: number, latencyMs: number): void;
  failed(err: Error): void;
  /** Closes the window at the last answer or failure: requests begun before the deadline all count. */
  finish(): LoadResult;
}

export function createLoadTally(): LoadTally {
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let non2xx = 0;
  let errors = 0;
  let bodyBytes = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let lastEnd = start;
  return {
    answered(status, bytes, latencyMs) {
      lastEnd = performance.now();
      bodyBytes += bytes;
      if (status >= 200 && status < 300) latencies.push(latencyMs);
      else non2xx++;
    },
    failed(err) {
      lastEnd = performance.now();
      errors++;
      if (errorSamples.length < 5) errorSamples.push(err.message);
    },
    finish() {
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
        latencyMs: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies[ok - 1] },
        bodyBytes,
        clientCpuCores: elapsedMs > 0 ? (cpu.user + cpu.system) / 1000 / elapsedMs : 0,
      };
    },
  };
}
