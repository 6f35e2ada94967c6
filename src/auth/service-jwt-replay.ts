// One use per service token. Every accepted token is remembered until it expires (its lifetime is
// bounded by the verifier, so entries are too); a second presentation is refused. A token without
// `jti` is remembered by its signed content, so leaving the nonce out buys no second use.
//
// The table is bounded, and when it is full it refuses new tokens rather than forgetting live
// ones: forgetting would let whoever fills it replay anything. Only tokens whose signature was
// verified get here, and each issuer may hold a share of the table, so filling it takes many
// identities and many signed requests; the refusal is a 429 for one issuer, a 503 for the table.
import { digestKey } from '../crypto/index.ts';

/** Live entries the whole table may hold (about 100 bytes each: ~20 MB when full). */
export const REPLAY_GUARD_MAX_ENTRIES = 200_000;
/** Live entries one issuer may hold: far more unexpired tokens than any one account uses. */
export const REPLAY_GUARD_MAX_PER_ISSUER = 200;
/** Expiry is tracked in buckets of this many seconds; sweeping a bucket frees all its entries. */
const BUCKET_S = 10;

export type ReplayVerdict = 'fresh' | 'replayed' | 'issuer-full' | 'full';

interface IssuerSlot {
  readonly key: string;
  live: number;
}

export interface ReplayGuardOptions {
  maxEntries?: number;
  maxPerIssuer?: number;
  /** Seconds past `exp` during which the verifier still accepts a token (its clock skew). */
  graceS?: number;
  now?: () => number;
}

export class ServiceJwtReplayGuard {
  readonly maxEntries: number;
  readonly maxPerIssuer: number;
  readonly #graceS: number;
  readonly #now: () => number;
  /** Digest of (issuer, nonce) → the issuer's slot. */
  readonly #entries = new Map<string, IssuerSlot>();
  readonly #issuers = new Map<string, IssuerSlot>();
  /** Expiry bucket → digests expiring in it. */
  readonly #buckets = new Map<number, string[]>();
  /** Every bucket up to this one has been swept. */
  #swept: number;

  constructor(options: ReplayGuardOptions = {}) {
    this.maxEntries = options.maxEntries ?? REPLAY_GUARD_MAX_ENTRIES;
    this.maxPerIssuer = options.maxPerIssuer ?? REPLAY_GUARD_MAX_PER_ISSUER;
    this.#graceS = options.graceS ?? 5;
    this.#now = options.now ?? Date.now;
    this.#swept = this.#sweepableUpTo();
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Records a verified token and says whether it may be used. `nonce` is the token's `jti`, or
   * its signed content when it has none; `exp` is in seconds.
   */
  checkAndRemember(iss: string, nonce: string, exp: number): ReplayVerdict {
    this.#sweep();
    const key = digestKey(iss, nonce);
    if (this.#entries.has(key)) return 'replayed';
    const issuerKey = digestKey(iss);
    let slot = this.#issuers.get(issuerKey);
    if (slot !== undefined && slot.live >= this.maxPerIssuer) return 'issuer-full';
    if (this.#entries.size >= this.maxEntries) return 'full';
    if (slot === undefined) this.#issuers.set(issuerKey, (slot = { key: issuerKey, live: 0 }));
    slot.live++;
    this.#entries.set(key, slot);
    // (A bucket already swept is never visited again: an entry there would stay for good.)
    const bucket = Math.max(Math.floor(exp / BUCKET_S), this.#swept + 1);
    const keys = this.#buckets.get(bucket);
    if (keys === undefined) this.#buckets.set(bucket, [key]);
    else keys.push(key);
    return 'fresh';
  }

  /** The last bucket whose every token is past `exp` + grace (so refused as expired anyway). */
  #sweepableUpTo(): number {
    return Math.floor((this.#now() / 1000 - this.#graceS) / BUCKET_S) - 1;
  }

  #sweep(): void {
    const upTo = this.#sweepableUpTo();
    if (upTo <= this.#swept) return;
    if (upTo - this.#swept > this.#buckets.size) {
      // A long idle stretch: cheaper to visit the buckets that exist than every bucket index.
      for (const bucket of this.#buckets.keys()) if (bucket <= upTo) this.#drop(bucket);
    } else {
      for (let bucket = this.#swept + 1; bucket <= upTo; bucket++) this.#drop(bucket);
    }
    this.#swept = upTo;
  }

  #drop(bucket: number): void {
    const keys = this.#buckets.get(bucket);
    if (keys === undefined) return;
    this.#buckets.delete(bucket);
    for (const key of keys) {
      const slot = this.#entries.get(key);
      if (slot === undefined) continue;
      this.#entries.delete(key);
      if (--slot.live === 0) this.#issuers.delete(slot.key);
    }
  }
}
