// Checking did:plc operations: their shape (as the directory hands them out, legacy format
// included), the limits the directory enforces on new ones, their signatures, and whole operation
// logs, so an answer from the directory can be verified instead of trusted.
import { parseDidKey } from '../crypto/index.ts';
import { encodeCbor } from '../ipld/cbor.ts';
import { CODEC_DCBOR, tryParseCid } from '../ipld/cid.ts';
import { PlcOperationError } from './errors.ts';
import { cidForPlcOperation, didForGenesisOperation } from './plc-hash.ts';
import { decodeBase64Url, verifySignatureAllowingHighS } from './signature.ts';
import type {
  AnyPlcOperation,
  LegacyPlcCreateOperation,
  PlcData,
  PlcOperation,
  PlcTombstone,
  UnsignedPlcOperation,
  UnsignedPlcTombstone,
} from './plc-types.ts';

/** The directory's anti-abuse limit on an operation's DAG-CBOR size. */
export const MAX_PLC_OPERATION_BYTES = 7500;
export const MAX_ROTATION_KEYS = 5;
const DID_KEY_SYNTAX = /^did:key:z[1-9A-HJ-NP-Za-km-z]+$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/** Checks the shape of an operation as JSON from the directory. Throws `PlcOperationError`. */
export function parsePlcOperation(value: unknown): AnyPlcOperation {
  if (!isObject(value)) throw new PlcOperationError('operation must be an object');
  if (typeof value.sig !== 'string') throw new PlcOperationError('operation has no signature');
  switch (value.type) {
    case 'plc_operation': {
      const { rotationKeys, verificationMethods, alsoKnownAs, services, prev } = value;
      if (!isStringArray(rotationKeys)) throw new PlcOperationError('rotationKeys must be an array of strings');
      if (!isObject(verificationMethods) || !Object.values(verificationMethods).every((v) => typeof v === 'string')) {
        throw new PlcOperationError('verificationMethods must map names to strings');
      }
      if (!isStringArray(alsoKnownAs)) throw new PlcOperationError('alsoKnownAs must be an array of strings');
      if (!isObject(services) || !Object.values(services).every((s) => isObject(s) && typeof s.type === 'string' && typeof s.endpoint === 'string')) {
        throw new PlcOperationError('services must map names to { type, endpoint }');
      }
      if (prev !== null && typeof prev !== 'string') throw new PlcOperationError('prev must be a CID string or null');
      return value as unknown as PlcOperation;
    }
    case 'plc_tombstone':
      if (typeof value.prev !== 'string') throw new PlcOperationError('a tombstone needs prev');
      return value as unknown as PlcTombstone;
    case 'create': {
      const { signingKey, recoveryKey, handle, service, prev } = value;
      if (typeof signingKey !== 'string' || typeof recoveryKey !== 'string' || typeof handle !== 'string' || typeof service !== 'string' || prev !== null) {
        throw new PlcOperationError('malformed legacy create operation');
      }
      return value as unknown as LegacyPlcCreateOperation;
    }
    default:
      throw new PlcOperationError('unknown operation type');
  }
}

/**
 * The limits the directory applies to a new operation (before or after signing): size, 1 to 5
 * distinct usable rotation keys, did:key syntax for verification methods, names without `#`,
 * and `prev` as a dag-cbor CID string. Throws `PlcOperationError`.
 */
export function assertValidPlcOperation(op: UnsignedPlcOperation | PlcOperation | UnsignedPlcTombstone | PlcTombstone): void {
  const size = encodeCbor(op).length;
  if (size > MAX_PLC_OPERATION_BYTES) throw new PlcOperationError(`operation is ${size} bytes of DAG-CBOR, over the ${MAX_PLC_OPERATION_BYTES} allowed`);
  if (op.prev !== null) {
    const cid = tryParseCid(op.prev);
    if (cid === null || cid.codec !== CODEC_DCBOR) throw new PlcOperationError('prev must be the CID string of a DAG-CBOR operation');
  }
  if (op.type === 'plc_tombstone') return;
  const { rotationKeys, verificationMethods, services, alsoKnownAs } = op;
  if (rotationKeys.length < 1 || rotationKeys.length > MAX_ROTATION_KEYS) {
    throw new PlcOperationError(`an operation needs 1 to ${MAX_ROTATION_KEYS} rotation keys`);
  }
  if (new Set(rotationKeys).size !== rotationKeys.length) throw new PlcOperationError('rotation keys must not repeat');
  for (const key of rotationKeys) {
    try {
      parseDidKey(key);
    } catch {
      throw new PlcOperationError(`rotation key is not a secp256k1 or P-256 did:key: ${key.slice(0, 100)}`);
    }
  }
  for (const [name, key] of Object.entries(verificationMethods)) {
    if (name === '' || name.includes('#')) throw new PlcOperationError('verification method names are bare (no #)');
    if (!DID_KEY_SYNTAX.test(key)) throw new PlcOperationError(`verification method ${name} is not a did:key`);
  }
  for (const [name, service] of Object.entries(services)) {
    if (name === '' || name.includes('#')) throw new PlcOperationError('service names are bare (no #)');
    if (service.type === '' || service.endpoint === '') throw new PlcOperationError(`service ${name} needs a type and an endpoint`);
  }
  if (alsoKnownAs.some((aka) => aka === '')) throw new PlcOperationError('alsoKnownAs entries must not be empty');
}

/** The regular form of an operation; a legacy `create` becomes what it always meant. */
export function normalizePlcOperation(op: PlcOperation | LegacyPlcCreateOperation): PlcOperation {
  if (op.type === 'plc_operation') return op;
  return {
    type: 'plc_operation',
    rotationKeys: [op.recoveryKey, op.signingKey],
    verificationMethods: { atproto: op.signingKey },
    alsoKnownAs: [op.handle.startsWith('at://') ? op.handle : `at://${op.handle}`],
    services: {
      atproto_pds: {
        type: 'AtprotoPersonalDataServer',
        endpoint: op.service.startsWith('http://') || op.service.startsWith('https://') ? op.service : `https://${op.service}`,
      },
    },
    prev: null,
    sig: op.sig,
  };
}

/** The first of `allowedKeys` that signed `op`, or undefined. */
export function findPlcOperationSigner(op: AnyPlcOperation, allowedKeys: readonly string[]): string | undefined {
  const sig = decodeBase64Url(op.sig);
  if (sig === undefined) return undefined;
  const { sig: _omit, ...unsigned } = op;
  const bytes = encodeCbor(unsigned);
  for (const key of allowedKeys) {
    try {
      if (verifySignatureAllowingHighS(key, bytes, sig)) return key;
    } catch {
      // An unusable key in the list cannot have signed; try the next one.
    }
  }
  return undefined;
}

/**
 * Replays a DID's operation log (`/:did/log`: the valid chain, oldest first) and returns the state
 * it ends in, or null when it ends in a tombstone. Checks the genesis hash against the DID, every
 * `prev` link, and every signature against the rotation keys in force. Throws `PlcOperationError`.
 * Recovery-window rules concern nullified forks, which this log does not contain.
 */
export function validatePlcOperationLog(did: string, log: readonly unknown[]): PlcData | null {
  if (log.length === 0) throw new PlcOperationError('empty operation log');
  const ops = log.map(parsePlcOperation);
  const genesis = ops[0];
  if (genesis.type === 'plc_tombstone' || genesis.prev !== null) throw new PlcOperationError('the log must start with a genesis operation');
  if (didForGenesisOperation(genesis) !== did) throw new PlcOperationError('the genesis operation does not hash to this DID');
  let state = normalizePlcOperation(genesis);
  if (findPlcOperationSigner(genesis, state.rotationKeys) === undefined) {
    throw new PlcOperationError('the genesis operation is not signed by one of its rotation keys');
  }
  let prevCid = cidForPlcOperation(genesis);
  for (let i = 1; i < ops.length; i++) {
    const op = ops[i];
    if (op.type === 'create') throw new PlcOperationError(`operation ${i} is a legacy create after the genesis`);
    if (op.prev !== prevCid) throw new PlcOperationError(`operation ${i} does not point at the operation before it`);
    if (findPlcOperationSigner(op, state.rotationKeys) === undefined) {
      throw new PlcOperationError(`operation ${i} is not signed by a rotation key in force`);
    }
    if (op.type === 'plc_tombstone') {
      if (i !== ops.length - 1) throw new PlcOperationError('operations follow a tombstone');
      return null;
    }
    state = op;
    prevCid = cidForPlcOperation(op);
  }
  return {
    did,
    rotationKeys: state.rotationKeys,
    verificationMethods: state.verificationMethods,
    alsoKnownAs: state.alsoKnownAs,
    services: state.services,
  };
}
