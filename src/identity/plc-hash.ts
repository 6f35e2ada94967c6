// The two hashes did:plc is built on. `prev` is the CID string (CIDv1, dag-cbor, sha2-256, base32)
// of the previous signed operation; the DID is `did:plc:` + the first 24 base32 characters of
// sha256(DAG-CBOR of the signed genesis operation).
import { toBase32 } from '@atcute/multibase';
import { encodeCbor } from '../ipld/cbor.ts';
import { cidForCbor, cidToString, sha256 } from '../ipld/cid.ts';
import { PlcOperationError } from './errors.ts';
import type { AnyPlcOperation, LegacyPlcCreateOperation, PlcOperation } from './plc-types.ts';

export const PLC_DID_PREFIX = 'did:plc:';
const PLC_DID_RE = /^did:plc:[a-z2-7]{24}$/;

export function isPlcDid(did: string): boolean {
  return PLC_DID_RE.test(did);
}

/** The CID string of a signed operation: what the next operation puts in `prev`. */
export function cidForPlcOperation(op: AnyPlcOperation): string {
  return cidToString(cidForCbor(encodeCbor(op)));
}

/** The DID a signed genesis operation (regular or legacy `create`) defines. */
export function didForGenesisOperation(op: PlcOperation | LegacyPlcCreateOperation): string {
  if (op.prev !== null) throw new PlcOperationError('a genesis operation has prev: null');
  // 24 base32 characters are exactly 120 bits: the first 15 bytes of the hash.
  return PLC_DID_PREFIX + toBase32(sha256(encodeCbor(op)).subarray(0, 15));
}
