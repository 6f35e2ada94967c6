export const TID_LENGTH = 13;

// base32-sortable, lowercase; the first character carries the top bits of a 64-bit integer
// whose highest bit must be zero, so it is one of 2-7a-j.
const TID_RE = /^[2-7a-j][2-7a-z]{12}$/;

/** TID syntax: 13 characters of base32-sortable with the top bit clear. */
export function isValidTid(s: string): boolean {
  return s.length === TID_LENGTH && TID_RE.test(s);
}
