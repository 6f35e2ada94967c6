// Building and signing did:plc operations per the did-method-plc spec: sign the DAG-CBOR of the
// operation without a `sig` key, then put the base64url signature in `sig`. Every operation
// carries the whole identity state, so an update is "the last state, changed, pointing at it".
import { encodeCbor } from '../ipld/cbor.ts';
import { isValidHandle } from '../syntax/index.ts';
import { PlcOperationError } from './errors.ts';
import { cidForPlcOperation, didForGenesisOperation } from './plc-hash.ts';
import { assertValidPlcOperation, normalizePlcOperation } from './plc-validate.ts';
import type {
  LegacyPlcCreateOperation,
  PlcIdentityFields,
  PlcOperation,
  PlcSigner,
  PlcTombstone,
  UnsignedPlcOperation,
  UnsignedPlcTombstone,
} from './plc-types.ts';

/** Signs an unsigned operation or tombstone with a rotation key. */
export async function signPlcOperation(unsigned: UnsignedPlcOperation, signer: PlcSigner): Promise<PlcOperation>;
export async function signPlcOperation(unsigned: UnsignedPlcTombstone, signer: PlcSigner): Promise<PlcTombstone>;
export async function signPlcOperation(
  unsigned: UnsignedPlcOperation | UnsignedPlcTombstone,
  signer: PlcSigner,
): Promise<PlcOperation | PlcTombstone> {
  if ('sig' in unsigned) throw new PlcOperationError('operation is already signed');
  const sig = await signer.sign(encodeCbor(unsigned));
  return { ...unsigned, sig: Buffer.from(sig).toString('base64url') };
}

export interface GenesisParams {
  /** did:keys, most powerful first; the signer must be one of them. */
  rotationKeys: string[];
  /** did:key of the account's repository signing key. */
  signingKey: string;
  handle?: string;
  pdsEndpoint: string;
  /** Extra verification methods or services to publish alongside the atproto ones. */
  verificationMethods?: Record<string, string>;
  services?: PlcIdentityFields['services'];
}

/** Builds and signs the genesis operation of a new DID; returns it with the DID it defines. */
export async function createGenesisOperation(params: GenesisParams, signer: PlcSigner): Promise<{ did: string; operation: PlcOperation }> {
  if (!params.rotationKeys.includes(signer.did())) {
    throw new PlcOperationError('the genesis operation must be signed by one of its own rotation keys');
  }
  const unsigned: UnsignedPlcOperation = {
    type: 'plc_operation',
    rotationKeys: [...params.rotationKeys],
    verificationMethods: { ...params.verificationMethods, atproto: params.signingKey },
    alsoKnownAs: params.handle === undefined ? [] : [handleUri(params.handle)],
    services: {
      ...params.services,
      atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: params.pdsEndpoint },
    },
    prev: null,
  };
  assertValidPlcOperation(unsigned);
  const operation = await signPlcOperation(unsigned, signer);
  assertValidPlcOperation(operation);
  return { did: didForGenesisOperation(operation), operation };
}

/**
 * Builds and signs the operation that follows `lastOp` (the latest valid operation of the DID,
 * legacy `create` included), with the identity fields `change` returns. The signer must be one
 * of the rotation keys in force, or the directory will refuse the operation.
 */
export async function createUpdateOperation(
  lastOp: PlcOperation | LegacyPlcCreateOperation,
  signer: PlcSigner,
  change: (current: PlcIdentityFields) => PlcIdentityFields,
): Promise<PlcOperation> {
  const current = normalizePlcOperation(lastOp);
  if (!current.rotationKeys.includes(signer.did())) {
    throw new PlcOperationError('the signer is not one of the rotation keys in force');
  }
  const fields = change({
    rotationKeys: [...current.rotationKeys],
    verificationMethods: { ...current.verificationMethods },
    alsoKnownAs: [...current.alsoKnownAs],
    services: { ...current.services },
  });
  const unsigned: UnsignedPlcOperation = {
    type: 'plc_operation',
    rotationKeys: fields.rotationKeys,
    verificationMethods: fields.verificationMethods,
    alsoKnownAs: fields.alsoKnownAs,
    services: fields.services,
    prev: cidForPlcOperation(lastOp),
  };
  assertValidPlcOperation(unsigned);
  const operation = await signPlcOperation(unsigned, signer);
  assertValidPlcOperation(operation);
  return operation;
}

/** Puts `handle` in place of the first `at://` alias (or first in the list when there is none). */
export function updateHandleOperation(lastOp: PlcOperation | LegacyPlcCreateOperation, signer: PlcSigner, handle: string): Promise<PlcOperation> {
  const uri = handleUri(handle);
  return createUpdateOperation(lastOp, signer, (current) => {
    const at = current.alsoKnownAs.findIndex((aka) => aka.startsWith('at://'));
    const alsoKnownAs = at === -1 ? [uri, ...current.alsoKnownAs] : current.alsoKnownAs.map((aka, i) => (i === at ? uri : aka));
    return { ...current, alsoKnownAs };
  });
}

/** Points `atproto_pds` at a new endpoint (account migration). */
export function updatePdsOperation(lastOp: PlcOperation | LegacyPlcCreateOperation, signer: PlcSigner, endpoint: string): Promise<PlcOperation> {
  return createUpdateOperation(lastOp, signer, (current) => ({
    ...current,
    services: { ...current.services, atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint } },
  }));
}

/** Replaces the repository signing key (`verificationMethods.atproto`). */
export function updateSigningKeyOperation(lastOp: PlcOperation | LegacyPlcCreateOperation, signer: PlcSigner, signingKey: string): Promise<PlcOperation> {
  return createUpdateOperation(lastOp, signer, (current) => ({
    ...current,
    verificationMethods: { ...current.verificationMethods, atproto: signingKey },
  }));
}

/** Replaces the rotation keys. */
export function updateRotationKeysOperation(lastOp: PlcOperation | LegacyPlcCreateOperation, signer: PlcSigner, rotationKeys: string[]): Promise<PlcOperation> {
  return createUpdateOperation(lastOp, signer, (current) => ({ ...current, rotationKeys: [...rotationKeys] }));
}

/** Deactivates the DID for good (within the recovery window, a stronger key can still undo it). */
export async function createTombstoneOperation(lastOp: PlcOperation | LegacyPlcCreateOperation, signer: PlcSigner): Promise<PlcTombstone> {
  const current = normalizePlcOperation(lastOp);
  if (!current.rotationKeys.includes(signer.did())) {
    throw new PlcOperationError('the signer is not one of the rotation keys in force');
  }
  return signPlcOperation({ type: 'plc_tombstone', prev: cidForPlcOperation(lastOp) }, signer);
}

function handleUri(handle: string): string {
  if (!isValidHandle(handle)) throw new PlcOperationError(`not a valid handle: ${handle.slice(0, 100)}`);
  return `at://${handle.toLowerCase()}`;
}
