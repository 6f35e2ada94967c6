// Signing keys. secp256k1 (ES256K) signs with libsecp256k1 where its binary loads (see
// secp256k1-native.ts), else with node:crypto; P-256 (ES256) always with node:crypto, where
// OpenSSL is fastest. OpenSSL signatures get the low-S fix. node:crypto keys are imported through
// JWK so no ASN.1 is hand-built; ECDH derives the public point from the private scalar and rejects
// scalars outside [1, n-1].
import { createECDH, createPrivateKey, hash, sign, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { promisify } from 'node:util';
import { curveFor, normaliseLowS, SECP256K1, type Curve, type SigAlg } from './curves.ts';
import { formatDidKey } from './did-key.ts';
import { InvalidKeyError } from './errors.ts';
import { nativeSecp256k1, type Secp256k1Lib } from './secp256k1-native.ts';

export interface Keypair {
  readonly alg: SigAlg;
  /** `did:key:z…` of the public key. */
  did(): string;
  /** 33-byte compressed public key. */
  publicKey(): Uint8Array;
  /**
   * ECDSA over sha256(msg): 64-byte compact r||s, always low-S. With libsecp256k1 (~0.04 ms) or
   * P-256 it signs in the calling thread; secp256k1 on OpenSSL (~0.4 ms) runs on the libuv thread
   * pool so the event loop keeps serving. Do not modify `msg` until the promise settles.
   */
  sign(msg: Uint8Array): Promise<Uint8Array>;
  /** Same as `sign`, always in the calling thread, for callers that cannot await. */
  signSync(msg: Uint8Array): Uint8Array;
  /** The 32-byte private scalar (a copy). Treat it as a secret. */
  exportPrivateKey(): Uint8Array;
}

// With a callback, node:crypto signs on the libuv thread pool instead of the calling thread.
const signInPool = promisify(sign as (algorithm: string, data: Uint8Array, key: SignKeyObjectInput, callback: (err: Error | null, sig: Buffer) => void) => void);

class NodeKeypair implements Keypair {
  readonly alg: SigAlg;
  readonly #curve: Curve;
  readonly #key: KeyObject;
  readonly #scalar: Uint8Array;
  readonly #publicKey: Uint8Array;
  readonly #did: string;

  constructor(curve: Curve, key: KeyObject, scalar: Uint8Array, publicKey: Uint8Array) {
    this.alg = curve.alg;
    this.#curve = curve;
    this.#key = key;
    this.#scalar = scalar;
    this.#publicKey = publicKey;
    this.#did = formatDidKey(curve.alg, publicKey);
  }

  did(): string {
    return this.#did;
  }

  publicKey(): Uint8Array {
    return this.#publicKey.slice();
  }

  async sign(msg: Uint8Array): Promise<Uint8Array> {
    // P-256 signs in ~40 µs, less than a thread-pool round trip costs; only secp256k1 is worth moving.
    if (this.#curve !== SECP256K1) return this.signSync(msg);
    const sig = await signInPool('sha256', msg, { key: this.#key, dsaEncoding: 'ieee-p1363' });
    return normaliseLowS(sig, this.#curve);
  }

  signSync(msg: Uint8Array): Uint8Array {
    const sig = sign('sha256', msg, { key: this.#key, dsaEncoding: 'ieee-p1363' });
    return normaliseLowS(sig, this.#curve);
  }

  exportPrivateKey(): Uint8Array {
    return this.#scalar.slice();
  }

  // Keep the secret out of logs and accidental JSON.
  toJSON(): { alg: SigAlg; did: string } {
    return { alg: this.alg, did: this.#did };
  }
}

class Secp256k1NativeKeypair implements Keypair {
  readonly alg: SigAlg = 'ES256K';
  readonly #lib: Secp256k1Lib;
  readonly #scalar: Uint8Array;
  readonly #publicKey: Uint8Array;
  readonly #did: string;

  constructor(lib: Secp256k1Lib, scalar: Uint8Array) {
    this.#lib = lib;
    this.#scalar = scalar;
    this.#publicKey = lib.publicKeyCreate(scalar, true);
    this.#did = formatDidKey('ES256K', this.#publicKey);
  }

  did(): string {
    return this.#did;
  }

  publicKey(): Uint8Array {
    return this.#publicKey.slice();
  }

  sign(msg: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(this.signSync(msg));
  }

  signSync(msg: Uint8Array): Uint8Array {
    const { signature } = this.#lib.ecdsaSign(hash('sha256', msg, 'buffer'), this.#scalar);
    // libsecp256k1 normalises every signature it makes; the check costs 32 byte comparisons.
    return normaliseLowS(signature, SECP256K1);
  }

  exportPrivateKey(): Uint8Array {
    return this.#scalar.slice();
  }

  toJSON(): { alg: SigAlg; did: string } {
    return { alg: this.alg, did: this.#did };
  }
}

/** A new random keypair (default secp256k1, the curve atproto repositories sign with). */
export async function generateKeypair(alg: SigAlg = 'ES256K'): Promise<Keypair> {
  const curve = curveFor(alg);
  const ecdh = createECDH(curve.nodeName);
  ecdh.generateKeys();
  return fromScalar(curve, ecdh.getPrivateKey(), nativeSecp256k1());
}

/** Imports a 32-byte private scalar (bytes or 64 hex digits). Throws `InvalidKeyError`. */
export async function importKeypair(alg: SigAlg, privateKey: Uint8Array | string): Promise<Keypair> {
  return importKeypairSync(alg, privateKey);
}

export function importKeypairSync(alg: SigAlg, privateKey: Uint8Array | string): Keypair {
  return importWith(alg, privateKey, nativeSecp256k1());
}

/** The node:crypto (OpenSSL) keypair whatever the platform: the fallback, and a second signer for tests. */
export function importOpenSslKeypairSync(alg: SigAlg, privateKey: Uint8Array | string): Keypair {
  return importWith(alg, privateKey, undefined);
}

function importWith(alg: SigAlg, privateKey: Uint8Array | string, native: Secp256k1Lib | undefined): Keypair {
  const curve = curveFor(alg);
  let scalar: Uint8Array;
  if (typeof privateKey === 'string') {
    if (!/^[0-9a-fA-F]{64}$/.test(privateKey)) throw new InvalidKeyError('private key must be 64 hex digits');
    scalar = Buffer.from(privateKey, 'hex');
  } else if (privateKey instanceof Uint8Array) {
    if (privateKey.length !== 32) throw new InvalidKeyError('private key must be 32 bytes');
    scalar = Uint8Array.from(privateKey);
  } else {
    throw new InvalidKeyError('private key must be bytes or a hex string');
  }
  return fromScalar(curve, scalar, native);
}

function fromScalar(curve: Curve, rawScalar: Uint8Array, native: Secp256k1Lib | undefined): Keypair {
  // OpenSSL drops leading zero bytes of small scalars; atproto tooling always uses 32 bytes.
  const scalar = new Uint8Array(32);
  scalar.set(rawScalar, 32 - rawScalar.length);
  if (curve === SECP256K1 && native) {
    if (!native.privateKeyVerify(scalar)) throw new InvalidKeyError(`private key is not a valid ${curve.alg} scalar`);
    return new Secp256k1NativeKeypair(native, scalar);
  }
  const ecdh = createECDH(curve.nodeName);
  try {
    ecdh.setPrivateKey(scalar);
  } catch {
    throw new InvalidKeyError(`private key is not a valid ${curve.alg} scalar`);
  }
  const point = ecdh.getPublicKey();
  const key = createPrivateKey({
    key: { kty: 'EC', crv: curve.jwkCrv, d: b64url(scalar), x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) },
    format: 'jwk',
  });
  const compressed = new Uint8Array(ecdh.getPublicKey(null, 'compressed'));
  return new NodeKeypair(curve, key, scalar, compressed);
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
