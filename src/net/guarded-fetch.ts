// The door for URLs that users or DID documents control: handle well-knowns, did:web documents,
// service endpoints read from DID documents (and OAuth client metadata). Whoever wrote the URL
// may aim it at this server's own network, so only public addresses are reached, on every hop.
// `PDS_DISABLE_SSRF_PROTECTION` (development only) lifts that, and nothing else does.
import { createSafeFetch, type HostResolver, type SafeFetch } from './safe-fetch.ts';

/** A fetch for user- or document-controlled URLs: public addresses only (unless development). */
export type GuardedFetch = SafeFetch & { readonly trust: 'guarded' };

export interface GuardedFetchOptions {
  /** Development only (`PDS_DISABLE_SSRF_PROTECTION`): loopback and private addresses too. */
  disableSsrfProtection?: boolean;
  /** Tests: map names to addresses without DNS. */
  resolveHost?: HostResolver;
  timeoutMs?: number;
}

export function createGuardedFetch(options: GuardedFetchOptions = {}): GuardedFetch {
  const fetch = createSafeFetch({
    allowPrivateNetwork: options.disableSsrfProtection === true,
    resolveHost: options.resolveHost,
    timeoutMs: options.timeoutMs,
  });
  return Object.assign(fetch, { trust: 'guarded' as const });
}

/** The strict guarded fetch, for resolvers built without one. */
export const guardedFetch: GuardedFetch = createGuardedFetch();
