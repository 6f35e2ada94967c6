import { RateLimitExceededError } from './errors.ts';
import type { RateLimitSpec } from './types.ts';

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch milliseconds at which the window resets. */
  resetAt: number;
}

/** Counts calls per (bucket, key). In-memory here; a shared store can implement the same interface. */
export interface RateLimiter {
  consume(bucket: string, key: string, limit: number, windowMs: number, cost?: number): RateLimitDecision;
}

interface Window {
  count: number;
  resetAt: number;
}

/** A fixed-window counter per key, with expired windows swept as the map grows. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  consume(bucket: string, key: string, limit: number, windowMs: number, cost = 1): RateLimitDecision {
    const now = this.#now();
    if (now >= this.#nextSweep) this.#sweep(now, windowMs);
    const id = `${bucket}\u0000${key}`;
    let window = this.#windows.get(id);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.#windows.set(id, window);
    }
    if (window.count + cost > limit) {
      return { allowed: false, limit, remaining: Math.max(0, limit - window.count), resetAt: window.resetAt };
    }
    window.count += cost;
    return { allowed: true, limit, remaining: limit - window.count, resetAt: window.resetAt };
  }

  #sweep(now: number, windowMs: number): void {
    for (const [id, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(id);
    this.#nextSweep = now + Math.min(windowMs, 60_000);
  }
}

export function rateLimitHeaders(spec: { windowMs: number }, decision: RateLimitDecision, now = Date.now()): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(Math.ceil(decision.resetAt / 1000)),
    'RateLimit-Policy': `${decision.limit};w=${Math.round(spec.windowMs / 1000)}`,
  };
  if (!decision.allowed) headers['Retry-After'] = String(Math.max(1, Math.ceil((decision.resetAt - now) / 1000)));
  return headers;
}

/** Applies every limit of a method; throws 429 with RateLimit-* and Retry-After headers when one is spent. */
export function enforceRateLimits<Spec extends RateLimitSpec<never>>(
  limiter: RateLimiter,
  specs: readonly Spec[],
  keyFor: (spec: Spec) => string | undefined,
  setHeaders: (headers: Record<string, string>) => void,
  costFor: (spec: Spec) => number = () => 1,
): void {
  let tightest: { spec: Spec; decision: RateLimitDecision } | undefined;
  for (const spec of specs) {
    const key = keyFor(spec);
    if (key === undefined) continue;
    const decision = limiter.consume(spec.name, key, spec.points, spec.windowMs, costFor(spec));
    if (!decision.allowed) {
      throw new RateLimitExceededError('Rate limit exceeded', rateLimitHeaders(spec, decision));
    }
    if (!tightest || decision.remaining < tightest.decision.remaining) tightest = { spec, decision };
  }
  if (tightest) setHeaders(rateLimitHeaders(tightest.spec, tightest.decision));
}
