// Top-level domains that are valid handle *syntax* but must fail registration and resolution
// (handle spec, "Additional Non-Syntax Restrictions"); did:web hosts follow the same rule. `.test`
// is for development only, so it is refused unless the caller allows it.
const RESERVED_TLDS = new Set(['alt', 'arpa', 'example', 'internal', 'invalid', 'local', 'localhost', 'onion']);

export function hasReservedTld(hostname: string, opts: { allowTest?: boolean } = {}): boolean {
  const tld = hostname.slice(hostname.lastIndexOf('.') + 1).toLowerCase();
  if (tld === 'test') return !opts.allowTest;
  return RESERVED_TLDS.has(tld);
}
