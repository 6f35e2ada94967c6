/** The Lexicon limit for the `uri` format (8 KB). */
export const MAX_URI_LENGTH = 8192;

// Scheme per RFC 3986, then a non-empty rest without whitespace or control characters
// (\s covers the Unicode spaces and line separators). Single pass, no backtracking.
const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s\x00-\x1f\x7f-\x9f]+$/;

/**
 * Generic URI: a scheme, a colon and a non-empty rest with no whitespace or control
 * characters. Any scheme is allowed (`dns:`, `did:`, `at:` ...). Non-ASCII letters are
 * tolerated (IRIs occur in records in the wild); nothing here decodes or resolves the URI.
 */
export function isValidUri(s: string): boolean {
  return s.length <= MAX_URI_LENGTH && URI_RE.test(s);
}
