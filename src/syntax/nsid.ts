export const MAX_NSID_LENGTH = 317;

// The spec's reference pattern: authority segments, then a letters-and-digits name that does
// not start with a digit. The only ambiguity (which segment is the name) resolves at the end.
const NSID_RE =
  /^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+\.[a-zA-Z][a-zA-Z0-9]{0,62}$/;

/**
 * NSID syntax: a reversed domain authority (at least two hostname labels, the first one
 * not starting with a digit) plus a name segment of ASCII letters and digits that does
 * not start with a digit. At least three segments, at most 317 characters.
 *
 * The spec also caps the authority at 253 characters, but the interop vectors accept a
 * 283-character authority inside a 287-character NSID, and the vectors are what other
 * implementations test against, so only the overall limit is enforced.
 */
export function isValidNsid(s: string): boolean {
  return s.length <= MAX_NSID_LENGTH && NSID_RE.test(s);
}
