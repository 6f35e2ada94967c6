// Keypairs, did:key and signatures for atproto (ES256K = secp256k1, ES256 = P-256).
export type { SigAlg } from './curves.ts';
export { InvalidKeyError } from './errors.ts';
export { generateKeypair, importKeypair, importKeypairSync, type Keypair } from './keypair.ts';
export { secp256k1Backend, type Secp256k1Backend } from './secp256k1-native.ts';
export {
  didKeyFromVerificationMethod,
  formatDidKey,
  formatMultikey,
  parseDidKey,
  parseMultikey,
  type ParsedPublicKey,
  type VerificationMethodLike,
} from './did-key.ts';
export { digestKey } from './digest-key.ts';
export { clearVerifyKeyCache, verifySignature, verifySignatureSync } from './verify.ts';
