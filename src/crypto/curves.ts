// The two curves atproto allows, and the low-S rule. ECDSA signatures are malleable: (r, s) and
// (r, n - s) both verify. atproto accepts only the "low" one (s <= n/2), and OpenSSL neither produces
// it reliably (about half its signatures are high-S) nor enforces it, so both directions fix it here.

export type SigAlg = 'ES256K' | 'ES256';

export interface Curve {
  readonly alg: SigAlg;
  /** Name for node:crypto ECDH / key generation. */
  readonly nodeName: 'secp256k1' | 'prime256v1';
  /** JWK `crv`. */
  readonly jwkCrv: 'secp256k1' | 'P-256';
  /** Multicodec varint of the public key type, as in did:key and Multikey. */
  readonly multicodec: Uint8Array;
  /** Group order n and n/2 as 32-byte big-endian strings, for bytewise comparisons. */
  readonly order: Uint8Array;
  readonly halfOrder: Uint8Array;
  readonly orderBig: bigint;
}

function makeCurve(alg: SigAlg, nodeName: Curve['nodeName'], jwkCrv: Curve['jwkCrv'], multicodec: number[], orderHex: string): Curve {
  const orderBig = BigInt(`0x${orderHex}`);
  return {
    alg,
    nodeName,
    jwkCrv,
    multicodec: Uint8Array.from(multicodec),
    order: Buffer.from(orderHex, 'hex'),
    halfOrder: Buffer.from((orderBig >> 1n).toString(16).padStart(64, '0'), 'hex'),
    orderBig,
  };
}

// Orders from SEC 2 (secp256k1) and FIPS 186-4 (P-256); multicodecs secp256k1-pub 0xe7 and
// p256-pub 0x1200, each written as an unsigned varint.
export const SECP256K1 = makeCurve('ES256K', 'secp256k1', 'secp256k1', [0xe7, 0x01], 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
export const P256 = makeCurve('ES256', 'prime256v1', 'P-256', [0x80, 0x24], 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

export function curveFor(alg: SigAlg): Curve {
  if (alg === 'ES256K') return SECP256K1;
  if (alg === 'ES256') return P256;
  throw new TypeError(`unsupported signature algorithm: ${String(alg)}`);
}

/** Compares 32-byte big-endian numbers stored at `a[aOff..aOff+32]` and `b[0..32]`. */
function compare32(a: Uint8Array, aOff: number, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = a[aOff + i] - b[i];
    if (d !== 0) return d;
  }
  return 0;
}

function isZero32(a: Uint8Array, off: number): boolean {
  for (let i = 0; i < 32; i++) if (a[off + i] !== 0) return false;
  return true;
}

/**
 * Whether a 64-byte compact signature r||s is acceptable to atproto before any maths: both halves in
 * [1, n-1] and s in the low half. OpenSSL checks the range itself, but not low-S.
 */
export function isLowSCompact(sig: Uint8Array, curve: Curve): boolean {
  if (sig.length !== 64) return false;
  if (isZero32(sig, 0) || isZero32(sig, 32)) return false;
  if (compare32(sig, 0, curve.order) >= 0) return false;
  return compare32(sig, 32, curve.halfOrder) <= 0;
}

/** Rewrites a freshly made compact signature in place to its low-S twin when needed. */
export function normaliseLowS(sig: Uint8Array, curve: Curve): Uint8Array {
  if (compare32(sig, 32, curve.halfOrder) <= 0) return sig;
  const s = BigInt(`0x${Buffer.from(sig.buffer, sig.byteOffset + 32, 32).toString('hex')}`);
  const low = (curve.orderBig - s).toString(16).padStart(64, '0');
  sig.set(Buffer.from(low, 'hex'), 32);
  return sig;
}
