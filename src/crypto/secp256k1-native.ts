// libsecp256k1 (Bitcoin Core's secp256k1 library) for ES256K, through the N-API binary that the
// `secp256k1` npm package ships prebuilt inside itself. It signs a commit in ~0.04 ms where
// OpenSSL takes ~0.4 ms, and verifies about 5× faster. Its signatures are always low-S and its
// verify refuses high-S, as atproto requires.
//
// `secp256k1/bindings.js` is loaded directly: the package's own entry point silently falls back
// to a pure-JS implementation (elliptic) when the binary does not load, 10× slower and not what
// this module vouches for. Where the binary is missing (a platform without a prebuild: Linux on
// arm64, macOS on x64, musl without glibc...), ES256K falls back to node:crypto (OpenSSL, the
// same low-S rules, about 0.4 ms per signature), and the boot log says so with the reason.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

/** The part of the `secp256k1` package's API used here. */
export interface Secp256k1Lib {
  contextRandomize(seed: Uint8Array | null): void;
  privateKeyVerify(seckey: Uint8Array): boolean;
  publicKeyCreate(seckey: Uint8Array, compressed?: boolean): Uint8Array;
  /** RFC 6979 deterministic nonce; the signature is normalised to low-S. */
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
  /** False for a high-S signature; throws when r or s is not below the group order. */
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
}

export type Secp256k1Backend = { kind: 'libsecp256k1'; lib: Secp256k1Lib } | { kind: 'node:crypto'; reason: string };

function load(): Secp256k1Backend {
  try {
    const lib = createRequire(import.meta.url)('secp256k1/bindings.js') as Secp256k1Lib;
    // Blinds the signing context against timing side channels (libsecp256k1's recommendation).
    lib.contextRandomize(randomBytes(32));
    return { kind: 'libsecp256k1', lib };
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    return { kind: 'node:crypto', reason: `the libsecp256k1 binary did not load on ${process.platform}-${process.arch}: ${message}` };
  }
}

let backend: Secp256k1Backend | undefined;

/** Which implementation signs and verifies ES256K in this process (decided once, at first use). */
export function secp256k1Backend(): Secp256k1Backend {
  backend ??= load();
  return backend;
}

/** The native library, or undefined when ES256K runs on node:crypto. */
export function nativeSecp256k1(): Secp256k1Lib | undefined {
  const b = secp256k1Backend();
  return b.kind === 'libsecp256k1' ? b.lib : undefined;
}
