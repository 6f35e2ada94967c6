// Signature verification against a did:key. This sits on the hot path of every relay-facing
// commit check and every service-auth token, so parsed keys are kept in a bounded LRU: parsing a
// did:key and building an OpenSSL key object costs more than the verification itself.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { curveFor, isLowSCompact, type Curve } from './curves.ts';
import { parseMultikeyWithPoint } from './did-key.ts';
import { InvalidKeyError } from './errors.ts';

interface CachedKey {
  curve: Curve;
  key: KeyObject;
}

const MAX_CACHED_KEYS = 10_000;
const cache = new Map<string, CachedKey>();

function publicKeyFor(didKey: string): CachedKey {
  const hit = cache.get(didKey);
  if (hit !== undefined) {
    // Refresh recency: Map iteration order is insertion order, so the first key is the coldest.
    cache.delete(didKey);
    cache.set(didKey, hit);
    return hit;
  }
  if (typeof didKey !== 'string' || !didKey.startsWith('did:key:')) throw new InvalidKeyError('not a did:key');
  const parsed = parseMultikeyWithPoint(didKey.slice('did:key:'.length));
  const curve = curveFor(parsed.alg);
  const point = parsed.uncompressed;
  const key = createPublicKey({
    key: { kty: 'EC', crv: curve.jwkCrv, x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
  const entry = { curve, key };
  if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value as string);
  cache.set(didKey, entry);
  return entry;
}

/**
 * Verifies an atproto signature: ECDSA over sha256(msg), 64-byte compact r||s, low-S only. DER
 * signatures, other lengths and high-S twins are rejected (false). Throws `InvalidKeyError` when the
 * did:key itself is malformed, which is a different failure from a bad signature.
 */
export function verifySignatureSync(didKey: string, msg: Uint8Array, sig: Uint8Array): boolean {
  const { curve, key } = publicKeyFor(didKey);
  if (!(sig instanceof Uint8Array) || !isLowSCompact(sig, curve)) return false;
  return verify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig);
}

export async function verifySignature(didKey: string, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  return verifySignatureSync(didKey, msg, sig);
}

/** Forgets cached keys (tests; or after a key rotation if memory must be reclaimed at once). */
export function clearVerifyKeyCache(): void {
  cache.clear();
}
