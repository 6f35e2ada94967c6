// Identity: DIDs, DID documents, did:plc, handles. Domain code only; the API layer maps the errors.
export * from './errors.ts';
export {
  ATPROTO_KEY_ID,
  ATPROTO_PDS_SERVICE,
  extractAtprotoIdentity,
  getAtprotoSigningKey,
  getHandle,
  getPdsEndpoint,
  getServiceEndpoint,
  getVerificationKey,
  normalizeServiceEndpoint,
  parseDidDocument,
  type AtprotoIdentity,
  type DidDocument,
  type DidService,
  type VerificationMethod,
} from './did-document.ts';
export { DidResolver, type DidResolverOptions, type ResolvedDid } from './did-resolver.ts';
export { HandleResolver, didFromTxtRecords, didFromWellKnown, type HandleResolverOptions, type TxtResolver } from './handle-resolver.ts';
export { IdentityResolver, createIdentityServices, type IdentityServices, type VerifiedIdentity } from './identity-resolver.ts';
export { PlcClient, type PlcClientOptions } from './plc-client.ts';
export { PLC_DID_PREFIX, cidForPlcOperation, didForGenesisOperation, isPlcDid } from './plc-hash.ts';
export {
  createGenesisOperation,
  createTombstoneOperation,
  createUpdateOperation,
  signPlcOperation,
  updateHandleOperation,
  updatePdsOperation,
  updateRotationKeysOperation,
  updateSigningKeyOperation,
  type GenesisParams,
} from './plc-operation.ts';
export type * from './plc-types.ts';
export {
  MAX_PLC_OPERATION_BYTES,
  assertValidPlcOperation,
  findPlcOperationSigner,
  normalizePlcOperation,
  parsePlcOperation,
  validatePlcOperationLog,
} from './plc-validate.ts';
export { hasReservedTld } from './reserved-tlds.ts';
export { ResolverCache, type ResolverCacheOptions } from './resolver-cache.ts';
