import { median } from './stats.ts';

export type Op = () => unknown;

export interface CompareOptions {
  /** How long each candidate runs in one round. */
  roundMs?: number;
  rounds?: number;
  /** Operations one call performs (a call that signs 100 messages counts 100). */
  batch?: number;
  /** Calls between two clock reads: more for very cheap operations, so timing does not dominate. */
  callsPerCheck?: number;
}

/**
 * Ops/s of each candidate, measured in interleaved rounds (every candidate runs for `roundMs`
 * in turn, `rounds` times) after a JIT warm-up, and the median kept: the machine is shared and
 * noisy, and interleaving spreads background load over all candidates.
 */
export async function compareOps(
  candidates: Record<string, Op | undefined>,
  { roundMs = 200, rounds = 5, batch = 1, callsPerCheck = 1 }: CompareOptions = {},
): Promise<Record<string, number | undefined>> {
  const names = Object.keys(candidates).filter((n) => candidates[n] !== undefined);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) {
    // Warm the JIT for ~100 ms (and at least a few calls) before measuring.
    const until = performance.now() + 100;
    for (let i = 0; i < 3 || performance.now() < until; i++) await candidates[n]!();
  }
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      const fn = candidates[n]!;
      let count = 0;
      const start = performance.now();
      let elapsed = 0;
      while (elapsed < roundMs) {
        for (let i = 0; i < callsPerCheck; i++) await fn();
        count += callsPerCheck * batch;
        elapsed = performance.now() - start;
      }
      samples[n].push((count * 1000) / elapsed);
    }
  }
  return Object.fromEntries(Object.keys(candidates).map((n) => [n, median(samples[n] ?? [])]));
}
