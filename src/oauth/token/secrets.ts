import { createHash, randomBytes } from 'node:crypto';

/** A random opaque value (codes, refresh tokens, ids): 256 bits unless told otherwise. */
export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** What the database keeps of a code or token: its SHA-256, never the value itself. */
export function hashSecret(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
