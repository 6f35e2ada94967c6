import { jsonToData } from '../ipld/data-model.ts';
import { encodeCbor } from '../ipld/cbor.ts';
import type { BlobField, LexiconSet } from '../lexicon/index.ts';
import { isValidNsid, isValidRecordKey, isValidTid } from '../syntax/index.ts';
import { nextTid } from './tid.ts';
import { RepoWriteError } from './write-errors.ts';

/** Largest record accepted, as DAG-CBOR: far above any real record, far below a relay's frame limit. */
export const MAX_RECORD_BYTES = 512 * 1024;
/** Most writes in one applyWrites call, as the Lexicon and the official PDS allow. */
export const MAX_WRITES_PER_BATCH = 200;

export type ValidationStatus = 'valid' | 'unknown';

export interface PreparedCreateOrUpdate {
  action: 'create' | 'update';
  collection: string;
  rkey: string;
  record: unknown;
  /** The record's DAG-CBOR, encoded once here and reused by the MST and the block store. */
  bytes: Uint8Array;
  validationStatus: ValidationStatus | undefined;
  /** Every blob the record references, with the constraints of the field that holds it. */
  blobs: BlobField[];
  /** Compare-and-swap on the record's current CID; null means "must not exist". */
  swapRecord?: string | null;
}

export interface PreparedDelete {
  action: 'delete';
  collection: string;
  rkey: string;
  swapRecord?: string | null;
}

export type PreparedWrite = PreparedCreateOrUpdate | PreparedDelete;

export interface RecordInput {
  collection: string;
  rkey?: string;
  record: unknown;
  /** true: the Lexicon must be known and pass; false: skip; undefined: validate known Lexicons. */
  validate?: boolean;
  swapRecord?: string | null;
}

export function checkCollection(collection: string): void {
  if (!isValidNsid(collection)) throw new RepoWriteError('InvalidCollection', `Invalid collection NSID: ${collection.slice(0, 200)}`);
}

/** Checks a record key against the syntax rules and the key type its Lexicon declares. */
export function checkRecordKey(lexicons: LexiconSet, collection: string, rkey: string): void {
  if (!isValidRecordKey(rkey)) throw new RepoWriteError('InvalidRecordKey', `Invalid record key: ${rkey.slice(0, 200)}`);
  const keyType = lexicons.recordKeyType(collection);
  if (keyType === undefined || keyType === 'any') return;
  if (keyType === 'tid' && !isValidTid(rkey)) throw new RepoWriteError('InvalidRecordKey', `Record key of ${collection} must be a TID`);
  if (keyType === 'nsid' && !isValidNsid(rkey)) throw new RepoWriteError('InvalidRecordKey', `Record key of ${collection} must be an NSID`);
  if (keyType.startsWith('literal:') && rkey !== keyType.slice('literal:'.length)) {
    throw new RepoWriteError('InvalidRecordKey', `Record key of ${collection} must be "${keyType.slice('literal:'.length)}"`);
  }
}

/**
 * Turns a client's record (JSON) into a write: `$type` set or checked, JSON converted to the
 * data model (blob refs recognised), Lexicon validation as asked, size capped, CBOR encoded.
 */
export function prepareRecord(lexicons: LexiconSet, input: RecordInput, action: 'create' | 'update'): PreparedCreateOrUpdate {
  checkCollection(input.collection);
  if (typeof input.record !== 'object' || input.record === null || Array.isArray(input.record)) {
    throw new RepoWriteError('InvalidRecord', 'Record must be an object');
  }
  const json = input.record as Record<string, unknown>;
  if (json.$type === undefined) json.$type = input.collection;
  else if (json.$type !== input.collection) {
    throw new RepoWriteError('InvalidRecord', `Invalid $type: expected ${input.collection}, got ${String(json.$type).slice(0, 200)}`);
  }
  const rkey = input.rkey ?? defaultRkey(lexicons, input.collection);
  checkRecordKey(lexicons, input.collection, rkey);
  let record: unknown;
  try {
    record = jsonToData(json);
  } catch (err) {
    throw new RepoWriteError('InvalidRecord', `Invalid record: ${(err as Error).message}`);
  }
  let validationStatus: ValidationStatus | undefined;
  let blobs: BlobField[] | undefined;
  if (input.validate !== false) {
    if (lexicons.hasRecord(input.collection)) {
      const result = lexicons.validateRecord(input.collection, record);
      if (!result.success) throw new RepoWriteError('InvalidRecord', `Invalid ${input.collection} record: ${result.message}`);
      validationStatus = 'valid';
      blobs = result.blobs;
    } else if (input.validate === true) {
      throw new RepoWriteError('InvalidRecord', `Lexicon not found: ${input.collection}`);
    } else {
      validationStatus = 'unknown';
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = encodeCbor(record);
  } catch (err) {
    throw new RepoWriteError('InvalidRecord', `Record is not valid data: ${(err as Error).message}`);
  }
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new RepoWriteError('RecordTooLarge', `Record is ${bytes.length} bytes; the limit is ${MAX_RECORD_BYTES}`);
  }
  blobs ??= lexicons.blobFieldsOf(input.collection, record);
  return { action, collection: input.collection, rkey, record, bytes, validationStatus, blobs, swapRecord: input.swapRecord };
}

function defaultRkey(lexicons: LexiconSet, collection: string): string {
  const keyType = lexicons.recordKeyType(collection);
  if (keyType?.startsWith('literal:')) return keyType.slice('literal:'.length);
  return nextTid();
}
