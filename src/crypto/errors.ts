// Crypto errors know nothing of HTTP: identity and auth code map them to their own responses.

/** A did:key, multikey, verification method or private key is malformed or of an unsupported type. */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}
