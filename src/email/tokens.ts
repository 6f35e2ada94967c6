import { randomBytes } from 'node:crypto';

/**
 * How long an emailed code stays valid. 15 minutes is the lifetime the official PDS gives its
 * email tokens (confirm email, update email, reset password, delete account, PLC operation);
 * clients and users expect the same window, so we keep it.
 */
export const EMAIL_TOKEN_TTL_MS = 15 * 60 * 1000;

/**
 * RFC 4648 base32, upper case. It leaves out 0, 1, 8 and 9 precisely because they are easily
 * mistaken for O, I/L and B, so a code read off a phone and typed on a laptop survives. It is
 * also the alphabet of the official PDS's `XXXXX-XXXXX` codes, so tooling written for those
 * (and users' habits) carries over.
 */
export const EMAIL_TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The exact shape of a token we issue: two groups of five base32 characters. */
export const EMAIL_TOKEN_PATTERN = /^[A-Z2-7]{5}-[A-Z2-7]{5}$/;

const GROUP = 5;
const LENGTH = GROUP * 2;

/**
 * A short, single-use code to send by email, `XXXXX-XXXXX` (50 bits from node:crypto).
 * 50 bits is plenty for a code that lives 15 minutes, is bound to one account and one purpose,
 * and sits behind rate limits; what matters more is that a person can type it.
 */
export function generateEmailToken(): string {
  const bytes = randomBytes(LENGTH);
  let out = '';
  for (let i = 0; i < LENGTH; i++) {
    if (i === GROUP) out += '-';
    // 32 divides 256, so the low five bits of a uniform byte are uniform: no modulo bias.
    out += EMAIL_TOKEN_ALPHABET[bytes[i] & 31];
  }
  return out;
}

/**
 * The canonical form of a code a user typed: trimmed and upper-cased, as the official PDS
 * compares them case-insensitively. Returns null for anything that cannot be one of our codes,
 * so storage is never queried with arbitrary input.
 */
export function normalizeEmailToken(input: string): string | null {
  const token = input.trim().toUpperCase();
  return EMAIL_TOKEN_PATTERN.test(token) ? token : null;
}
