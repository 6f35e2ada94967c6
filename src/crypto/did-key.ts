// did:key and Multikey encodings of atproto public keys (see the cryptography spec):
// `did:key:` + multibase base58btc ('z') of (multicodec varint || 33-byte compressed point).
import { ECDH } from 'node:crypto';
import { fromBase58Btc, toBase58Btc } from '@atcute/multibase';
import { P256, SECP256K1, curveFor, type Curve, type SigAlg } from './curves.ts';
import { InvalidKeyError } from './errors.ts';

export interface ParsedPublicKey {
  alg: SigAlg;
  /** 33-byte compressed SEC1 point. */
  publicKey: Uint8Array;
}

const DID_KEY_PREFIX = 'did:key:';

/** Formats a compressed public key as a Multikey string (`z…`, with the multicodec prefix). */
export function formatMultikey(alg: SigAlg, compressedPublicKey: Uint8Array): string {
  const curve = curveFor(alg);
  checkCompressedPoint(compressedPublicKey, curve);
  const bytes = new Uint8Array(2 + 33);
  bytes.set(curve.multicodec, 0);
  bytes.set(compressedPublicKey, 2);
  return `z${toBase58Btc(bytes)}`;
}

/** Formats a compressed public key as `did:key:z…`. */
export function formatDidKey(alg: SigAlg, compressedPublicKey: Uint8Array): string {
  return DID_KEY_PREFIX + formatMultikey(alg, compressedPublicKey);
}

/**
 * Parses a Multikey string (`z` + base58btc of multicodec || compressed point) and checks that the
 * point lies on the curve. Throws `InvalidKeyError`.
 */
export function parseMultikey(multibase: string): ParsedPublicKey {
  const { alg, publicKey } = parseMultikeyWithPoint(multibase);
  return { alg, publicKey };
}

/** `parseMultikey` plus the uncompressed point it had to compute to validate the key. */
export function parseMultikeyWithPoint(multibase: string): ParsedPublicKey & { uncompressed: Buffer } {
  const bytes = decodeBase58Multibase(multibase);
  let curve: Curve;
  if (bytes[0] === SECP256K1.multicodec[0] && bytes[1] === SECP256K1.multicodec[1]) curve = SECP256K1;
  else if (bytes[0] === P256.multicodec[0] && bytes[1] === P256.multicodec[1]) curve = P256;
  else throw new InvalidKeyError('unsupported key type: multicodec is neither secp256k1-pub nor p256-pub');
  const publicKey = bytes.slice(2);
  checkCompressedPoint(publicKey, curve);
  return { alg: curve.alg, publicKey, uncompressed: decompressPoint(publicKey, curve.alg) };
}

/** Parses `did:key:z…` into its algorithm and compressed public key (validated). Throws `InvalidKeyError`. */
export function parseDidKey(didKey: string): ParsedPublicKey {
  if (typeof didKey !== 'string' || !didKey.startsWith(DID_KEY_PREFIX)) {
    throw new InvalidKeyError('not a did:key');
  }
  return parseMultikey(didKey.slice(DID_KEY_PREFIX.length));
}

/** A DID document verification method, as found in `verificationMethod[]`. */
export interface VerificationMethodLike {
  type: string;
  publicKeyMultibase?: string;
}

/**
 * The did:key of a DID document verification method, in either form found in the wild: `Multikey`
 * (`publicKeyMultibase` carries the multicodec prefix, like did:key) or the legacy
 * `EcdsaSecp256k1VerificationKey2019` / `EcdsaSecp256r1VerificationKey2019` (`publicKeyMultibase` is
 * the bare key, no multicodec; old documents sometimes hold an uncompressed point, compressed here).
 */
export function didKeyFromVerificationMethod(method: VerificationMethodLike): string {
  if (method === null || typeof method !== 'object') throw new InvalidKeyError('verification method must be an object');
  const multibase = method.publicKeyMultibase;
  if (typeof multibase !== 'string') throw new InvalidKeyError('verification method has no publicKeyMultibase');
  switch (method.type) {
    case 'Multikey': {
      const { alg, publicKey } = parseMultikey(multibase);
      return formatDidKey(alg, publicKey);
    }
    case 'EcdsaSecp256k1VerificationKey2019':
      return formatDidKey('ES256K', compressLegacyKey(decodeBase58Multibase(multibase), SECP256K1));
    case 'EcdsaSecp256r1VerificationKey2019':
      return formatDidKey('ES256', compressLegacyKey(decodeBase58Multibase(multibase), P256));
    default:
      throw new InvalidKeyError(`unsupported verification method type: ${String(method.type).slice(0, 100)}`);
  }
}

/** Returns the uncompressed (65-byte, 0x04 || x || y) form of a compressed point. */
export function decompressPoint(compressed: Uint8Array, alg: SigAlg): Buffer {
  try {
    return ECDH.convertKey(compressed, curveFor(alg).nodeName, undefined, undefined, 'uncompressed') as Buffer;
  } catch {
    throw new InvalidKeyError('public key is not a point on the curve');
  }
}

function compressLegacyKey(bytes: Uint8Array, curve: Curve): Uint8Array {
  if (bytes.length === 65 && bytes[0] === 0x04) {
    try {
      return ECDH.convertKey(bytes, curve.nodeName, undefined, undefined, 'compressed') as Buffer;
    } catch {
      throw new InvalidKeyError('public key is not a point on the curve');
    }
  }
  checkCompressedPoint(bytes, curve);
  decompressPoint(bytes, curve.alg);
  return bytes;
}

function decodeBase58Multibase(multibase: string): Uint8Array {
  if (typeof multibase !== 'string' || multibase[0] !== 'z' || multibase.length > 200) {
    throw new InvalidKeyError('key must be a base58btc multibase string starting with "z"');
  }
  try {
    return fromBase58Btc(multibase.slice(1));
  } catch {
    throw new InvalidKeyError('key is not valid base58btc');
  }
}

function checkCompressedPoint(key: Uint8Array, curve: Curve): void {
  if (key.length !== 33 || (key[0] !== 0x02 && key[0] !== 0x03)) {
    throw new InvalidKeyError(`${curve.alg} public key must be a 33-byte compressed point`);
  }
}
