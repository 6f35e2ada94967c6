// A bounded cache for resolution results. Identities change rarely and are read on hot paths
// (every service-auth token, every proxied request), so answers are served from memory while
// fresh; once stale they are still served, but refreshed in the background (stale-while-
// revalidate), and only past the maximum age does a caller wait for the network. Concurrent
// loads of one key share a single request, which also absorbs bursts of forced refreshes.
// Failures can be remembered for a short while too (negative caching), so a name that does not
// resolve costs one outbound request per `failureTtlMs`, not one per incoming request.

export interface ResolverCacheOptions {
  /** Served without a refresh for this long. Default 1 hour. */
  freshMs?: number;
  /** Served at all for this long (refreshed in the background after `freshMs`). Default 1 day. */
  maxAgeMs?: number;
  /** Least recently used entries are dropped past this. Default 10,000. */
  maxEntries?: number;
  /**
   * A forced refresh within this long of the last fetch returns the cached value: forcing is
   * what an unverifiable signature triggers, and anyone can send those. Default 0.
   */
  minRefreshIntervalMs?: number;
  /** Whether a failed refresh means the cached value must go (e.g. the DID was deleted). */
  evictOn?: (err: unknown) => boolean;
  /**
   * How long a failed load with no value to fall back on is answered from memory (the same error
   * is thrown again) before the next caller loads again. Default 0: failures are not cached.
   */
  failureTtlMs?: number;
  /** Which failures may be cached (e.g. not found, unreachable). Default: every failure. */
  cacheFailure?: (err: unknown) => boolean;
  /** Background refresh failures land here (they have no caller to throw to). */
  onBackgroundError?: (key: string, err: unknown) => void;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  fetchedAt: number;
}

interface Failure {
  error: unknown;
  failedAt: number;
}

export class ResolverCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Promise<V>>();
  /** Recent failures, oldest first; bounded by `maxEntries` like the values. */
  readonly #failures = new Map<string, Failure>();
  readonly #freshMs: number;
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;
  readonly #minRefreshMs: number;
  readonly #evictOn: (err: unknown) => boolean;
  readonly #failureTtlMs: number;
  readonly #cacheFailure: (err: unknown) => boolean;
  readonly #onBackgroundError: (key: string, err: unknown) => void;
  readonly #now: () => number;

  constructor(options: ResolverCacheOptions = {}) {
    this.#freshMs = options.freshMs ?? 60 * 60 * 1000;
    this.#maxAgeMs = Math.max(options.maxAgeMs ?? 24 * 60 * 60 * 1000, this.#freshMs);
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#minRefreshMs = options.minRefreshIntervalMs ?? 0;
    this.#evictOn = options.evictOn ?? (() => false);
    this.#failureTtlMs = Math.max(0, options.failureTtlMs ?? 0);
    this.#cacheFailure = options.cacheFailure ?? (() => true);
    this.#onBackgroundError = options.onBackgroundError ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value for `key`, fetching it with `load` when missing, expired or forced. */
  async get(key: string, load: () => Promise<V>, opts: { forceRefresh?: boolean } = {}): Promise<V> {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      const age = this.#now() - entry.fetchedAt;
      if (opts.forceRefresh) {
        if (age < this.#minRefreshMs) return this.#touch(key, entry).value;
        return this.#load(key, load);
      }
      if (age < this.#freshMs) return this.#touch(key, entry).value;
      if (age < this.#maxAgeMs) {
        if (!this.#inflight.has(key)) this.#load(key, load).catch((err: unknown) => this.#onBackgroundError(key, err));
        return this.#touch(key, entry).value;
      }
      this.#entries.delete(key);
    }
    const failure = this.#failures.get(key);
    if (failure !== undefined) {
      const age = this.#now() - failure.failedAt;
      const retry = opts.forceRefresh === true ? age >= this.#minRefreshMs : false;
      if (age < this.#failureTtlMs && !retry) throw failure.error;
      this.#failures.delete(key);
    }
    return this.#load(key, load);
  }

  /** The cached value, if any, whatever its age. */
  peek(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  set(key: string, value: V): void {
    this.#failures.delete(key);
    this.#entries.delete(key);
    this.#entries.set(key, { value, fetchedAt: this.#now() });
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.#entries.delete(key);
    this.#failures.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#failures.clear();
  }

  #touch(key: string, entry: Entry<V>): Entry<V> {
    // Map order is insertion order: moving a hit to the end keeps the coldest entry first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  #rememberFailure(key: string, error: unknown): void {
    if (this.#failureTtlMs === 0 || !this.#cacheFailure(error)) return;
    this.#failures.delete(key);
    this.#failures.set(key, { error, failedAt: this.#now() });
    if (this.#failures.size > this.#maxEntries) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  #load(key: string, load: () => Promise<V>): Promise<V> {
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const promise = (async () => {
      try {
        const value = await load();
        this.set(key, value);
        return value;
      } catch (err) {
        if (this.#evictOn(err)) this.#entries.delete(key);
        if (!this.#entries.has(key)) this.#rememberFailure(key, err);
        throw err;
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, promise);
    return promise;
  }
}
