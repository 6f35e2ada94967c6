const CID_STRING_RE = /^[a-zA-Z0-9+=]{8,256}$/;

/**
 * The Lexicon `cid` string format, checked loosely on purpose: 8-256 characters of
 * `[A-Za-z0-9+=]`, and not a CIDv0 (`Qm...`). Several strings that pass are not decodable
 * CIDs; code that actually uses a CID parses it with @atcute/cid, which is the real check.
 */
export function isValidCidString(s: string): boolean {
  return s.length <= 256 && CID_STRING_RE.test(s) && !s.startsWith('Qm');
}
