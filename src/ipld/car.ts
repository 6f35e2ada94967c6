// CAR v1 (content-addressable archives), the format of repo exports, imports and firehose
// blocks: varint(header length) + DAG-CBOR header `{ version: 1, roots: [CID…] }`, then sections of
// varint(CID length + block length) + CID bytes + block bytes.
//
// Writing (car-write.ts) streams in 64 KiB chunks and never holds the whole archive. Reading
// (car-read.ts) never trusts the input: every CID is recomputed from its block's bytes, every length
// is checked against limits before anything is buffered, and any malformed input ends in a
// CarError (never a crash, a hang, or an unbounded allocation).
import type { Cid } from './cid.ts';

export { CarError } from './errors.ts';
export { carBytes, carBytesSync, encodeCarHeader, writeCar } from './car-write.ts';
export { DEFAULT_MAX_BLOCK_BYTES, readCar, readCarWithRoot, type CarLimits, type CarReader } from './car-read.ts';

export interface CarBlock {
  cid: Cid;
  bytes: Uint8Array;
}

/** What writing a block needs of it: the CID's bytes (a CID, or a tree link, which keeps them) and the block. */
export interface CarBlockBytes {
  cid: { readonly bytes: Uint8Array };
  bytes: Uint8Array;
}
