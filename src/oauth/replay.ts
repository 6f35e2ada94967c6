// One-time values that must not be accepted twice: DPoP proof `jti`s, client assertion `jti`s,
// PKCE code challenges. Kept in memory per process behind an interface a shared store (Postgres,
// Redis) can implement. Each namespace has one lifetime, so entries expire in insertion order and
// sweeping stops at the first live one. Bounded: when a namespace is full of live entries, new
// values are refused (ReplayStoreFullError) rather than old ones forgotten, since forgetting is
// what would let a replay through. So that one client cannot fill a namespace for everyone, a value
// may name its owner (a DPoP key, a client): an owner holding a tenth of the namespace's room is
// refused (ReplayQuotaError) while the others still get in.

type Awaitable<T> = T | Promise<T>;

export interface ReplayStore {
  /**
   * True the first time `value` is seen in `namespace` within `ttlMs`; false for a replay. Throws
   * ReplayStoreFullError when the namespace is full, ReplayQuotaError when `owner` has its share.
   */
  unique(namespace: string, value: string, ttlMs: number, owner?: string): Awaitable<boolean>;
}

export class ReplayStoreFullError extends Error {
  override name = 'ReplayStoreFullError';
}

/** One owner holds its whole share of live values; it may try again once some expire. */
export class ReplayQuotaError extends Error {
  override name = 'ReplayQuotaError';
}

interface Entry {
  expiresAt: number;
  owner: string | undefined;
}

interface Namespace {
  entries: Map<string, Entry>;
  /** Live entries per owner; an owner is removed when its count reaches zero. */
  owners: Map<string, number>;
}

export class MemoryReplayStore implements ReplayStore {
  readonly #namespaces = new Map<string, Namespace>();

  /**
   * `maxEntriesPerOwner` defaults to a tenth of the namespace; Infinity turns the shares off (the
   * operator turned rate limits off, e.g. to benchmark one client flat out).
   */
  constructor(
    readonly maxEntriesPerNamespace = 200_000,
    readonly now: () => number = Date.now,
    readonly maxEntriesPerOwner = Math.max(1, Math.floor(maxEntriesPerNamespace / 10)),
  ) {}

  unique(namespace: string, value: string, ttlMs: number, owner?: string): boolean {
    let ns = this.#namespaces.get(namespace);
    if (ns === undefined) {
      ns = { entries: new Map(), owners: new Map() };
      this.#namespaces.set(namespace, ns);
    }
    const now = this.now();
    for (const [key, entry] of ns.entries) {
      if (entry.expiresAt > now) break;
      ns.entries.delete(key);
      if (entry.owner !== undefined) release(ns.owners, entry.owner);
    }
    const existing = ns.entries.get(value);
    if (existing !== undefined && existing.expiresAt > now) return false;
    if (ns.entries.size >= this.maxEntriesPerNamespace) throw new ReplayStoreFullError(`too many ${namespace} values in flight`);
    if (owner !== undefined) {
      const held = ns.owners.get(owner) ?? 0;
      if (held >= this.maxEntriesPerOwner) throw new ReplayQuotaError(`too many ${namespace} values in flight from one client`);
      ns.owners.set(owner, held + 1);
    }
    ns.entries.set(value, { expiresAt: now + ttlMs, owner });
    return true;
  }
}

function release(owners: Map<string, number>, owner: string): void {
  const held = owners.get(owner) ?? 0;
  if (held <= 1) owners.delete(owner);
  else owners.set(owner, held - 1);
}
