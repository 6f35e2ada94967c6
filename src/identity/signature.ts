// Signature checks for data that is not content-addressed by its signature: historical PLC
// operations and service-auth JWTs. Repository commits must be low-S (the crypto module enforces
// it), but a JWT or an old PLC operation signed by a library that never normalised S is still
// an authentic signature, and the reference implementation accepts those too. So a high-S
// signature is folded to its low-S twin (same r, s' = n - s, mathematically equivalent) and
// checked strictly; the cheap strict check runs first because almost every signature is low-S.
import { parseDidKey, verifySignatureSync } from '../crypto/index.ts';
import { curveFor } from '../crypto/curves.ts';

/** ECDSA over sha256(msg), 64-byte compact r||s, either S half. Throws `InvalidKeyError` for a bad key. */
export function verifySignatureAllowingHighS(didKey: string, msg: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  if (verifySignatureSync(didKey, msg, sig)) return true;
  const curve = curveFor(parseDidKey(didKey).alg);
  const s = BigInt(`0x${Buffer.from(sig.buffer, sig.byteOffset + 32, 32).toString('hex')}`);
  const half = curve.orderBig >> 1n;
  if (s <= half || s >= curve.orderBig) return false;
  const folded = new Uint8Array(64);
  folded.set(sig.subarray(0, 32), 0);
  folded.set(Buffer.from((curve.orderBig - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return verifySignatureSync(didKey, msg, folded);
}

/** Decodes strict unpadded base64url; undefined for anything else (padding, `+`, `/`, spaces). */
export function decodeBase64Url(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return undefined;
  const bytes = Buffer.from(s, 'base64url');
  // Reject non-canonical trailing bits, so one signature has exactly one spelling.
  return bytes.toString('base64url') === s ? bytes : undefined;
}
