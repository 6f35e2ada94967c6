// Importing a whole repository (com.atproto.repo.importRepo): a CAR streamed from the client is
// staged on disk, verified by walking its tree from the signed commit, and then written as the
// account's repo, record index and blob references in one durable transaction. A crash at any
// point leaves either the account as it was or the whole import, never a mix.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CarError, readCar } from '../../ipld/car.ts';
import { cidToString, type Cid } from '../../ipld/cid.ts';
import { findBlobRefs } from '../../ipld/data-model.ts';
import type { Commit } from '../commit.ts';
import { BadCommitSignatureError, CommitDidMismatchError, InvalidCommitError, RepoError } from '../errors.ts';
import { verifiedTree, verifyCommitBlock } from '../verify.ts';
import type { RepoService } from '../repo-service.ts';
import { ImportStaging } from './staging.ts';

/** Why an import was refused; nothing of the account changed. */
export class RepoImportError extends RepoError {
  override name = 'RepoImportError';
}

export interface ImportRepoDeps {
  repo: Pick<RepoService, 'replaceRepo'>;
  /** Directory for the staging file (the server's temporary directory). */
  stagingDir: string;
  /** The signing key the DID document names now (a did:key); `forceRefresh` skips caches. */
  resolveSigningKey: (did: string, opts: { forceRefresh: boolean }) => Promise<string>;
  /** Called as the import advances (blocks staged, records verified), for logs and progress. */
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportProgress {
  phase: 'staging' | 'verifying' | 'writing';
  blocks: number;
  bytes: number;
  records: number;
}

export interface ImportResult {
  /** The repo's head now: the imported commit, or the new one signed over it. */
  commit: { cid: string; rev: string };
  /** The CAR's commit. */
  imported: string;
  /** Blocks of the repo as stored (commit, MST nodes, records). */
  blocks: number;
  records: number;
  /** Distinct blob references of the imported records. */
  blobRefs: number;
}

/** Blocks (or bytes) staged per staging transaction, and tree entries verified between yields. */
const STAGE_BATCH_BLOCKS = 2000;
const STAGE_BATCH_BYTES = 8 * 1024 * 1024;
const VERIFY_SLICE = 2000;

/**
 * Imports `car` (a stream of chunks) as the repo of `did`. Throws RepoImportError for anything
 * wrong with the CAR (unreadable, truncated, corrupt, not one root, another DID, a bad
 * signature, a broken tree, a missing block); errors of the stream itself (the HTTP layer's size
 * limit, an aborted request) pass through unchanged.
 */
export async function importRepo(
  deps: ImportRepoDeps,
  did: string,
  car: AsyncIterable<Uint8Array>,
  /** How the repo is written: see RepoService.replaceRepo (a last check, re-signing, events). */
  write: Parameters<RepoService['replaceRepo']>[2] = {},
): Promise<ImportResult> {
  const staging = new ImportStaging(deps.stagingDir);
  try {
    const progress: ImportProgress = { phase: 'staging', blocks: 0, bytes: 0, records: 0 };
    const root = await stageCar(staging, car, progress, deps.onProgress);
    const commit = await verifyCommit(deps, did, staging, root);
    progress.phase = 'verifying';
    const blobRefs = await verifyTree(staging, root, commit, progress, deps.onProgress);
    progress.phase = 'writing';
    deps.onProgress?.(progress);
    const cid = cidToString(root);
    const stored = await deps.repo.replaceRepo(
      did,
      {
        root: { cid, rev: commit.rev, data: cidToString(commit.data) },
        staged: { file: staging.file, queries: (alias) => staging.copyQueries(alias) },
        blobRefs: () => staging.blobRefs(),
      },
      write,
    );
    return { commit: stored.head, imported: cid, blocks: stored.blocks, records: progress.records, blobRefs };
  } finally {
    staging.close();
  }
}

/** Reads the CAR into the staging file; returns its one root. */
async function stageCar(
  staging: ImportStaging,
  car: AsyncIterable<Uint8Array>,
  progress: ImportProgress,
  onProgress: ImportRepoDeps['onProgress'],
): Promise<Cid> {
  try {
    const reader = await readCar(car);
    if (reader.roots.length !== 1) {
      await reader.blocks.return();
      throw new RepoImportError(`The CAR must have exactly one root (the commit), found ${reader.roots.length}`);
    }
    let batch: Array<[string, Uint8Array]> = [];
    let batchBytes = 0;
    const flush = () => {
      const blocks = batch;
      staging.batch(() => staging.putBlocks(blocks));
      progress.blocks += blocks.length;
      progress.bytes += batchBytes;
      batch = [];
      batchBytes = 0;
      onProgress?.(progress);
    };
    for await (const block of reader.blocks) {
      batch.push([cidToString(block.cid), block.bytes]);
      batchBytes += block.bytes.length;
      if (batch.length >= STAGE_BATCH_BLOCKS || batchBytes >= STAGE_BATCH_BYTES) flush();
    }
    flush();
    staging.indexBlocks();
    return reader.roots[0];
  } catch (err) {
    if (err instanceof CarError) throw new RepoImportError(`The CAR could not be read: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * The root must be a commit of `did` signed by the key its DID document names. A signature that
 * does not match is checked once more against a freshly resolved document (the key may have
 * just rotated).
 */
async function verifyCommit(deps: ImportRepoDeps, did: string, staging: ImportStaging, root: Cid): Promise<Commit> {
  const bytes = staging.get(cidToString(root));
  if (bytes === undefined) throw new RepoImportError(`The CAR's root ${cidToString(root)} is not among its blocks`);
  try {
    const key = await deps.resolveSigningKey(did, { forceRefresh: false });
    try {
      return await verifyCommitBlock(bytes, root, { did, didKey: key });
    } catch (err) {
      if (!(err instanceof BadCommitSignatureError)) throw err;
      const fresh = await deps.resolveSigningKey(did, { forceRefresh: true });
      if (fresh === key) throw err;
      return await verifyCommitBlock(bytes, root, { did, didKey: fresh });
    }
  } catch (err) {
    if (err instanceof CommitDidMismatchError) throw new RepoImportError(`The CAR's commit is for ${err.actual}, not for this account (${did})`, { cause: err });
    if (err instanceof BadCommitSignatureError) {
      throw new RepoImportError('The CAR\'s commit is not signed by the signing key in the DID document', { cause: err });
    }
    if (err instanceof InvalidCommitError) throw new RepoImportError(`The CAR's root is not a valid commit: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Walks the whole tree out of the staging file (which marks every block read as the repo's) and
 * lists the records and their blob references. Yields to the event loop every few thousand entries, so
 * other requests are served while a large repo is checked. Returns how many distinct blobs
 * the records reference.
 */
async function verifyTree(staging: ImportStaging, root: Cid, commit: Commit, progress: ImportProgress, onProgress: ImportRepoDeps['onProgress']): Promise<number> {
  const walk = verifiedTree(staging, commit.data);
  for (;;) {
    let done = false;
    try {
      staging.batch(() => {
        const records: Array<[string, string, Uint8Array]> = [];
        for (let i = 0; i < VERIFY_SLICE; i++) {
          const step = walk.next();
          if (step.done) {
            done = true;
            break;
          }
          const block = step.value;
          if (block.kind !== 'record') continue;
          records.push([block.path, block.cid, block.bytes]);
          for (const ref of findBlobRefs(block.value)) staging.putBlobRef(block.path, ref.cid);
        }
        staging.putRecords(records);
        progress.records += records.length;
      });
    } catch (err) {
      if (err instanceof RepoError) throw new RepoImportError(`The repo in the CAR is not valid: ${err.message}`, { cause: err });
      throw err;
    }
    onProgress?.(progress);
    if (done) {
      staging.listReached();
      return staging.blobCount();
    }
    await nextTurn();
  }
}
