// Keys for in-memory maps that hold data a client chose (an IP, a handle, a token's nonce): a
// fixed-size digest, so a map entry costs the same whatever the client sent, and what the client
// sent is not kept in memory. 128 bits: a collision only merges two clients' counters, and finding
// one on purpose is out of reach.
import { createHash } from 'node:crypto';

/** 22 base64url characters naming `parts` (joined unambiguously). */
export function digestKey(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(String(part.length)).update(':').update(part);
  return hash.digest().subarray(0, 16).toString('base64url');
}
