import type { Database } from '../db/index.ts';
import type { BlobField } from '../lexicon/index.ts';
import type { Firehose } from '../sync/firehose.ts';
import type { SequencerLog } from '../sync/sequencer-log.ts';
import type { GroupCommitter } from './group-commit.ts';
import type { RecordIndex } from './record-index.ts';
import type { RepoLocks } from './repo-lock.ts';
import type { SigningKeys } from './signing-keys.ts';

export interface RepoRoot {
  cid: string;
  rev: string;
}

/** A record as the repo holds it: its AT URI, CID and DAG-CBOR block. */
export interface StoredRecord {
  uri: string;
  cid: string;
  bytes: Uint8Array;
}

/** One page of a collection: each record's AT URI is `at://<did>/<collection>/<rkey>`. */
export interface RecordPage {
  did: string;
  collection: string;
  records: Array<{ rkey: string; cid: string; bytes: Uint8Array }>;
  /** Present when there are more records: the last key of this page. */
  cursor?: string;
}

/** What blob bookkeeping the write path drives inside its transaction (implemented by the blob service). */
export interface RecordBlobHooks {
  /**
   * Inside the commit transaction: checks and records the blobs of a record's new value; returns blobs now
   * unreferenced. `created`: the path held no record before (nothing to look up and drop).
   */
  applyRecordBlobs(did: string, recordUri: string, blobs: BlobField[], opts?: { created?: boolean }): string[];
  /** After the commit is durable. */
  deleteUnreferenced(did: string, cids: string[]): Promise<void>;
  /** Inside an import's transaction: the account's references become exactly these; returns blobs now unreferenced. */
  replaceImportedRefs?(did: string, refs: Iterable<[path: string, cid: string]>): string[];
}

/** The verified contents of a repo that replaces another wholesale (an import). */
export interface ReplacementRepo {
  root: { cid: string; rev: string; data: string };
  /**
   * The repo staged in a SQLite file, which the database attaches and copies from itself.
   * `queries(alias)` give, over the file attached as `alias`: every block of the repo but the
   * records' (the commit, the MST nodes) once, as rows (cid, bytes), in CID order; every record
   * with its block as rows (collection, rkey, cid, bytes).
   */
  staged: { file: string; queries: (alias: string) => { blocks: string; records: string } };
  /** Every blob reference of the records. */
  blobRefs(): Iterable<[path: string, blobCid: string]>;
}

export interface WriteOptions {
  swapCommit?: string;
  /** putRecord: an update of a missing record creates it. */
  upsert?: boolean;
  /** deleteRecord without swapRecord: deleting a missing record is a no-op, not an error. */
  ignoreMissingDelete?: boolean;
}

export interface WriteOutcome {
  commit: { cid: string; rev: string } | undefined;
  results: Array<{ uri: string; cid?: string }>;
}

export interface RepoServiceDeps {
  db: Database;
  records: RecordIndex;
  sequencer: SequencerLog;
  committer: GroupCommitter;
  locks: RepoLocks;
  keys: SigningKeys;
  firehose: Firehose;
  blobs?: RecordBlobHooks;
  /** Called after every durable commit (e.g. to ask relays to crawl). */
  afterCommit?: () => void;
}
