/** A JWS or JWK that cannot be used: malformed, unsupported, or with a signature that does not verify. */
export class JoseError extends Error {
  override name = 'JoseError';
}
