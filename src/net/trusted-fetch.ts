// The door for URLs the operator configured: the PLC directory (PDS_DID_PLC_URL), the relays to
// notify (PDS_CRAWLERS) and the services requests are forwarded to. The operator chose them, so
// they may be on loopback or a private network with no extra setting. The trust is in those
// origins and nowhere else: a request (or a redirect) to any other origin is refused, so a user-
// supplied URL cannot borrow it by mistake. Time and size limits apply as everywhere.
import { createSafeFetch, type HostResolver, type SafeFetch } from './safe-fetch.ts';

/** A fetch for operator-configured URLs: any address, only the configured origins. */
export type TrustedFetch = SafeFetch & { readonly trust: 'operator'; readonly origins: ReadonlySet<string> };

export interface TrustedFetchOptions {
  resolveHost?: HostResolver;
  timeoutMs?: number;
}

/** `urls` are the configured URLs (http or https); their origins are what the fetch may reach. */
export function createTrustedFetch(urls: Iterable<string>, options: TrustedFetchOptions = {}): TrustedFetch {
  const origins = new Set<string>();
  for (const url of urls) origins.add(new URL(url).origin);
  const fetch = createSafeFetch({ allowPrivateNetwork: true, origins, resolveHost: options.resolveHost, timeoutMs: options.timeoutMs });
  return Object.assign(fetch, { trust: 'operator' as const, origins });
}
