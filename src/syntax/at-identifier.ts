import { isValidDid } from './did.ts';
import { isValidHandle } from './handle.ts';

/** A DID or a handle; the `did:` prefix decides which, since handles cannot hold a colon. */
export function isValidAtIdentifier(s: string): boolean {
  return s.startsWith('did:') ? isValidDid(s) : isValidHandle(s);
}
