// One-time values that must not be accepted twice: DPoP proof `jti`s, client assertion `jti`s,
// PKCE code challenges. Kept in memory per process behind an interface a shared store (Postgres,
// Redis) can implement. Each namespace has one lifetime, so entries expire in insertion order and
// sweeping stops at the first live one. Bounded: when a namespace is full of live entries, new
// values are refused (ReplayStoreFullError) rather than old ones forgotten, since forgetting is
// what would let a replay through.

type Awaitable<T> = T | Promise<T>;

export interface ReplayStore {
  /** True the first time `value` is seen in `namespace` within `ttlMs`; false for a replay. */
  unique(namespace: string, value: string, ttlMs: number): Awaitable<boolean>;
}

export class ReplayStoreFullError extends Error {
  override name = 'ReplayStoreFullError';
}

export class MemoryReplayStore implements ReplayStore {
  readonly #namespaces = new Map<string, Map<string, number>>();

  constructor(
    readonly maxEntriesPerNamespace = 200_000,
    readonly now: () => number = Date.now,
  ) {}

  unique(namespace: string, value: string, ttlMs: number): boolean {
    let seen = this.#namespaces.get(namespace);
    if (seen === undefined) {
      seen = new Map();
      this.#namespaces.set(namespace, seen);
    }
    const now = this.now();
    for (const [key, expiresAt] of seen) {
      if (expiresAt > now) break;
      seen.delete(key);
    }
    const expiresAt = seen.get(value);
    if (expiresAt !== undefined && expiresAt > now) return false;
    if (seen.size >= this.maxEntriesPerNamespace) throw new ReplayStoreFullError(`too many ${namespace} values in flight`);
    seen.set(value, now + ttlMs);
    return true;
  }
}
