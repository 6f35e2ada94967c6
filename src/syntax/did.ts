/** atproto's hard limit; generic DIDs have none. */
export const MAX_DID_LENGTH = 2048;

// The spec's reference pattern. No nested quantifiers, so matching is linear.
const DID_RE = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/;

/**
 * Generic DID syntax as atproto restricts it: `did:<method>:<identifier>`, method of
 * lowercase letters, identifier of `[A-Za-z0-9._:%-]` not ending in `:` or `%`. Percent
 * escapes are not decoded (the spec says syntax checks need not). Method-specific rules
 * (did:plc, did:web) belong to the identity code, not here.
 */
export function isValidDid(s: string): boolean {
  return s.length <= MAX_DID_LENGTH && DID_RE.test(s);
}
