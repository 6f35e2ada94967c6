import type { Readable } from 'node:stream';
import { BlobStoreError } from './errors.ts';

/** An inclusive byte range, already checked against the blob's size by the caller. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface StoredBlob {
  /** Size of the whole blob, whatever range was asked for. */
  size: number;
  /** The asked range (or the whole blob); the caller must consume or destroy it. */
  stream: Readable;
}

/**
 * Where blob bytes live, keyed by (account DID, blob CID): the same bytes uploaded by two
 * accounts are two entries, so deleting one account's copy can never touch the other's.
 * Metadata (type, temp or permanent, references) is the database's business, not the store's.
 *
 * Every implementation must pass `blob-store.conformance.ts`.
 */
export interface BlobStore {
  /**
   * Takes a finished local file (complete and already fsynced by the caller) and stores it as
   * (did, cid). The file is consumed: moved or copied, then gone. When the promise resolves the
   * blob is durable. Storing a key that exists replaces it (same CID, so same bytes).
   */
  putFile(did: string, cid: string, file: string): Promise<void>;
  /** The blob's bytes, or the inclusive `range` of them; undefined when absent. */
  get(did: string, cid: string, range?: ByteRange): Promise<StoredBlob | undefined>;
  stat(did: string, cid: string): Promise<{ size: number } | undefined>;
  exists(did: string, cid: string): Promise<boolean>;
  /** Removes one blob; removing an absent one is not an error. */
  delete(did: string, cid: string): Promise<void>;
  /** Removes every blob of an account (account deletion). */
  deleteAll(did: string): Promise<void>;
}

// A CID string as blob keys use it: base32 lower case with the `b` prefix, nothing that could
// name another path. Stores validate keys themselves so no caller can escape their root.
const CID_KEY = /^b[a-z2-7]{8,200}$/;
const DID_KEY = /^did:[a-z]+:[a-zA-Z0-9._:%-]{1,2000}$/;

export function checkDidKey(did: string): void {
  if (!DID_KEY.test(did) || did.endsWith(':')) throw new BlobStoreError(`Not a DID: ${JSON.stringify(did.slice(0, 100))}`);
}

export function checkBlobKey(did: string, cid: string): void {
  checkDidKey(did);
  if (!CID_KEY.test(cid)) throw new BlobStoreError(`Not a base32 CID: ${JSON.stringify(cid.slice(0, 100))}`);
}

export function checkRange(range: ByteRange, size: number): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size) {
    throw new BlobStoreError(`Range ${start}-${end} is outside a blob of ${size} bytes`);
  }
}
