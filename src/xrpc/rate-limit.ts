import { digestKey } from '../crypto/digest-key.ts';
import { InvalidRequestError, RateLimitExceededError } from './errors.ts';
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
  limit: number;
}

/**
 * Windows kept in memory at most (about 120 bytes each: ~12 MB). Past it, expired windows go
 * first, then the least used ones (by share of their limit spent), never the fullest.
 */
export const RATE_LIMIT_MAX_KEYS = 100_000;
/** Longest key (an IP, a DID, a handle, an email address) a limit may be counted by. */
export const RATE_LIMIT_MAX_KEY_CHARS = 2048;
/** Shares of a limit spent, in sixteenths, for choosing what to forget. */
const SHARE_STEPS = 16;

export interface MemoryRateLimiterOptions {
  maxKeys?: number;
  now?: () => number;
}

/**
 * A fixed-window counter per key. Keys are fixed-size digests of (bucket, key), so an entry costs
 * the same whatever a client sent, and the table holds at most `maxKeys` windows. When it is full,
 * expired windows are swept; if that is not enough, the windows with the smallest share of their
 * limit spent are forgotten first. Forgetting a window resets it, so this order makes resetting
 * someone's nearly spent limit cost the attacker nearly as many requests, on nearly as many keys,
 * as the whole table holds.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly maxKeys: number;
  readonly #windows = new Map<string, Window>();
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(options: MemoryRateLimiterOptions = {}) {
    this.maxKeys = options.maxKeys ?? RATE_LIMIT_MAX_KEYS;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#windows.size;
  }

  consume(bucket: string, key: string, limit: number, windowMs: number, cost = 1): RateLimitDecision {
    const now = this.#now();
    if (now >= this.#nextSweep) this.#sweep(now, windowMs);
    const id = digestKey(bucket, key);
    let window = this.#windows.get(id);
    if (!window || window.resetAt <= now) {
      if (!window && this.#windows.size >= this.maxKeys) this.#makeRoom(now);
      window = { count: 0, resetAt: now + windowMs, limit };
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

  /** Frees a tenth of the table: expired windows, then the least spent, oldest first among equals. */
  #makeRoom(now: number): void {
    const target = Math.floor(this.maxKeys * 0.9);
    const share = (w: Window) => Math.min(SHARE_STEPS, Math.floor((w.count * SHARE_STEPS) / Math.max(1, w.limit)));
    const histogram = new Array<number>(SHARE_STEPS + 1).fill(0);
    for (const [id, window] of this.#windows) {
      if (window.resetAt <= now) this.#windows.delete(id);
      else histogram[share(window)]++;
    }
    let excess = this.#windows.size - target;
    if (excess <= 0) return;
    // Every window below the threshold share goes; at the threshold, only as many as needed.
    let threshold = 0;
    for (let below = 0; threshold <= SHARE_STEPS && below + histogram[threshold] < excess; threshold++) below += histogram[threshold];
    for (const pass of [(s: number) => s < threshold, (s: number) => s === threshold]) {
      for (const [id, window] of this.#windows) {
        if (excess <= 0) return;
        if (pass(share(window))) {
          this.#windows.delete(id);
          excess--;
        }
      }
    }
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
    if (key.length > RATE_LIMIT_MAX_KEY_CHARS) throw new InvalidRequestError(`Identifier is too long (at most ${RATE_LIMIT_MAX_KEY_CHARS} characters)`);
    const decision = limiter.consume(spec.name, key, spec.points, spec.windowMs, costFor(spec));
    if (!decision.allowed) {
      throw new RateLimitExceededError('Rate limit exceeded', rateLimitHeaders(spec, decision));
    }
    if (!tightest || decision.remaining < tightest.decision.remaining) tightest = { spec, decision };
  }
  if (tightest) setHeaders(rateLimitHeaders(tightest.spec, tightest.decision));
}
