import { createHash } from 'node:crypto';

export interface FailureThrottleOptions {
  /** Failures a client may make in one window; the next attempt is refused until it ends. */
  maxFailures: number;
  windowMs: number;
  /** Clients tracked at once. Past it, clients not yet tracked share one overflow entry. */
  maxClients: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  resetAt: number;
}

/** The entry every client shares once the table is full: filling it throttles the filler, never evicts. */
const OVERFLOW = '\u0000overflow';
/** Client keys are addresses or /64 prefixes; anything longer is stored as a fixed-size digest. */
const MAX_KEY_LENGTH = 64;

/**
 * Counts failed attempts per client in fixed windows, in bounded memory: at most `maxClients`
 * entries of short keys. Nobody's entry can be pushed out by someone else's failures, so a
 * guesser cannot reset its own count by filling the table.
 */
export class FailureThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #options: Required<FailureThrottleOptions>;
  #nextSweep = 0;

  constructor(options: FailureThrottleOptions) {
    this.#options = { now: Date.now, ...options };
  }

  /** Milliseconds until the client may try again; 0 when it may try now. */
  retryAfterMs(client: string): number {
    const now = this.#options.now();
    const entry = this.#entries.get(this.#slot(client, now, false));
    if (!entry || entry.resetAt <= now || entry.failures < this.#options.maxFailures) return 0;
    return entry.resetAt - now;
  }

  recordFailure(client: string): void {
    const now = this.#options.now();
    const slot = this.#slot(client, now, true);
    const entry = this.#entries.get(slot);
    if (!entry || entry.resetAt <= now) this.#entries.set(slot, { failures: 1, resetAt: now + this.#options.windowMs });
    else entry.failures++;
  }

  /** Entries held (for tests and status). */
  get size(): number {
    return this.#entries.size;
  }

  #slot(client: string, now: number, adding: boolean): string {
    const key = client.length <= MAX_KEY_LENGTH ? client : createHash('sha256').update(client).digest('base64url');
    if (this.#entries.has(key)) return key;
    // One place is kept for the overflow entry, so the table never holds more than maxClients.
    const room = () => this.#entries.size < this.#options.maxClients - 1;
    if (room()) return key;
    if (adding && now >= this.#nextSweep) {
      for (const [id, entry] of this.#entries) if (entry.resetAt <= now) this.#entries.delete(id);
      this.#nextSweep = now + Math.min(this.#options.windowMs, 60_000);
      if (room()) return key;
    }
    return OVERFLOW;
  }
}
