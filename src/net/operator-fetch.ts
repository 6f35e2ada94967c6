import { createSafeFetch, type SafeFetch, type SafeFetchOptions } from './safe-fetch.ts';

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '').toLowerCase();

/**
 * The guarded fetch for services the operator configured (a PLC directory, crawlers): their
 * hosts are trusted wherever they are, loopback and private networks included, since nobody but
 * the operator chose them. Any other host (a redirect elsewhere, say) is held to the usual rules.
 * Connections under a trust rule are not pooled, so only hosts that need it should be given.
 */
export function createOperatorFetch(urls: readonly string[], defaults: SafeFetchOptions): SafeFetch {
  const hosts = new Set(urls.map((url) => bare(new URL(url).hostname)));
  if (hosts.size === 0) return createSafeFetch(defaults);
  return createSafeFetch({ ...defaults, allowAddress: (_address, _class, hostname) => hosts.has(bare(hostname)) });
}
