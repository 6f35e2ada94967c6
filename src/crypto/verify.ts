// Signature verification against a did:key. This sits on the hot path of every relay-facing
// commit check and every service-auth token, so parsed keys are kept in a bounded LRU: parsing a
// did:key and building an OpenSSL key object costs more than the verification itself.
// secp256k1 verifies with libsecp256k1 where it loaded (see secp256k1-native.ts), about 5× faster
// than OpenSSL; the low-S rule is checked here before either library sees the signature.
import { createPublicKey, hash, verify, type KeyObject } from 'node:crypto';
import { curveFor, isLowSCompact, SECP256K1, type Curve } from './curves.ts';
import { parseMultikeyWithPoint } from './did-key.ts';
import { InvalidKeyError } from './errors.ts';
import { nativeSecp256k1, type Secp256k1Lib } from './secp256k1-native.ts';

interface CachedKey {
  curve: Curve;
  /** The OpenSSL key object, made on first use by OpenSSL. */
  key: KeyObject | undefined;
  /** 33-byte compressed point, for libsecp256k1. */
  compressed: Uint8Array;
  uncompressed: Buffer;
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
  const entry: CachedKey = { curve, key: undefined, compressed: parsed.publicKey, uncompressed: parsed.uncompressed };
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
  return verifyWith(nativeSecp256k1(), didKey, msg, sig);
}

/** `verifySignatureSync` on node:crypto (OpenSSL) whatever the platform: the fallback, and a second verifier for tests. */
export function verifySignatureOpenSsl(didKey: string, msg: Uint8Array, sig: Uint8Array): boolean {
  return verifyWith(undefined, didKey, msg, sig);
}

function verifyWith(native: Secp256k1Lib | undefined, didKey: string, msg: Uint8Array, sig: Uint8Array): boolean {
  const entry = publicKeyFor(didKey);
  if (!(sig instanceof Uint8Array) || !isLowSCompact(sig, entry.curve)) return false;
  if (native && entry.curve === SECP256K1) {
    try {
      return native.ecdsaVerify(sig, hash('sha256', msg, 'buffer'), entry.compressed);
    } catch {
      return false; // r or s not below the order: isLowSCompact already refuses those
    }
  }
  entry.key ??= openSslKey(entry);
  return verify('sha256', msg, { key: entry.key, dsaEncoding: 'ieee-p1363' }, sig);
}

function openSslKey({ curve, uncompressed: point }: CachedKey): KeyObject {
  return createPublicKey({
    key: { kty: 'EC', crv: curve.jwkCrv, x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
}

export async function verifySignature(didKey: string, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  return verifySignatureSync(didKey, msg, sig);
}

/** Forgets cached keys (tests; or after a key rotation if memory must be reclaimed at once). */
export function clearVerifyKeyCache(): void {
  cache.clear();
}
