export const MAX_HANDLE_LENGTH = 253;

// The spec's reference pattern. Labels are delimited by '.', which no inner class matches,
// so backtracking stays within one label (at most 63 characters).
const HANDLE_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/**
 * Handle syntax: an ASCII DNS hostname with at least two labels, each 1-63 characters of
 * `[A-Za-z0-9-]` not starting or ending with `-`, and a last label (TLD) that does not
 * start with a digit (which is what rules out IPv4 addresses). Reserved TLDs such as
 * `.local` pass here on purpose: refusing them is a registration policy, not syntax.
 */
export function isValidHandle(s: string): boolean {
  return s.length <= MAX_HANDLE_LENGTH && HANDLE_RE.test(s);
}

/** Handles are case-insensitive; lowercase is the stored and compared form. */
export function normalizeHandle(handle: string): string {
  return handle.toLowerCase();
}
