import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Database } from '../db/index.ts';
import { acceptsMimeType, type BlobField } from '../lexicon/index.ts';
import { BlobMetadata, type BlobRow } from './blob-metadata.ts';
import type { BlobStore, ByteRange } from './blob-store.ts';
import { detectMimeType } from './content-type.ts';
import { BlobNotFoundError, BlobRefError, BlobStoreError, BlobTakendownError } from './errors.ts';
import { KeyLock } from './key-lock.ts';
import { TEMP_PREFIX, writeTempUpload } from './temp-upload.ts';

/** A blob ref in its JSON form, as uploadBlob answers and records carry it. */
export interface BlobRefJson {
  $type: 'blob';
  ref: { $link: string };
  mimeType: string;
  size: number;
}

/** What getBlob needs to answer before it opens the bytes. */
export interface ServableBlob {
  cid: string;
  mimeType: string;
  size: number;
}

export interface BlobLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BlobServiceOptions {
  db: Database;
  store: BlobStore;
  /** Local directory for uploads in flight (PDS_BLOBSTORE_DISK_TMP_LOCATION). */
  tmpDir: string;
  /** Largest upload in bytes (PDS_BLOB_UPLOAD_LIMIT). */
  uploadLimit: number;
  /** How long an unreferenced upload is kept. The spec asks for hours, never under one. */
  tempTtlMs?: number;
  log?: BlobLogger;
  /** The clock (tests move it forward to expire uploads). */
  now?: () => Date;
  /** Expired blobs deleted per database round (default 200). */
  expiryBatch?: number;
}

export const DEFAULT_TEMP_TTL_MS = 6 * 60 * 60 * 1000;

const silent: BlobLogger = { warn() {}, error() {} };

/**
 * Blobs of every account: uploads stream to a temp file and into the store; metadata changes
 * ride in the record write path's transaction (applyRecordBlobs); bytes are deleted only after
 * the commit that dropped their last reference is durable (deleteUnreferenced), or when an
 * unreferenced upload expires (collectExpired).
 */
export class BlobService {
  readonly uploadLimit: number;
  readonly tempTtlMs: number;
  readonly #db: Database;
  readonly #store: BlobStore;
  readonly #meta: BlobMetadata;
  readonly #tmpDir: string;
  readonly #log: BlobLogger;
  readonly #now: () => Date;
  readonly #locks = new KeyLock();
  readonly #expiryBatch: number;

  constructor(options: BlobServiceOptions) {
    this.#db = options.db;
    this.#store = options.store;
    this.#meta = new BlobMetadata(options.db);
    this.#tmpDir = options.tmpDir;
    this.uploadLimit = options.uploadLimit;
    this.tempTtlMs = options.tempTtlMs ?? DEFAULT_TEMP_TTL_MS;
    this.#log = options.log ?? silent;
    this.#now = options.now ?? (() => new Date());
    this.#expiryBatch = options.expiryBatch ?? 200;
  }

  /**
   * Stores an upload as a temporary blob of `did` and returns its ref. The bytes are never held
   * whole in memory; the type comes from the bytes (see detectMimeType). Uploading bytes the
   * account already has changes nothing but the TTL of a still-temporary blob.
   */
  async upload(did: string, stream: AsyncIterable<Uint8Array>, declaredType: string | undefined): Promise<BlobRefJson> {
    const temp = await writeTempUpload(stream, { dir: this.#tmpDir, limit: this.uploadLimit });
    try {
      const mimeType = await detectMimeType(temp.head, declaredType);
      const row = await this.#locks.run(lockKey(did, temp.cid), async () => {
        const existing = this.#meta.get(did, temp.cid);
        if (existing?.takedownRef) throw new BlobTakendownError(temp.cid);
        // A known blob whose file is there needs no second copy; a missing file is put back.
        if (!existing || !(await this.#store.exists(did, temp.cid))) await this.#store.putFile(did, temp.cid, temp.file);
        return this.#meta.recordUpload(did, temp.cid, mimeType, temp.size, this.#now().toISOString());
      });
      return blobRef(row);
    } finally {
      await unlink(temp.file).catch(() => {});
    }
  }

  /**
   * Inside the record write path's transaction, for each record created, updated or deleted:
   * `blobs` are the refs of the record's new value (empty for a delete). Checks each against the
   * stored blob (BlobRefError), references it and makes it permanent, and returns the CIDs that
   * no record of the account references any more. Throws before writing anything.
   *
   * `created`: no record was at this path before the write (a create, which the repo's tree
   * refuses over an existing key), so it has no references to look up and drop.
   */
  applyRecordBlobs(did: string, recordUri: string, blobs: readonly BlobField[], opts: { created?: boolean } = {}): string[] {
    const { collection, rkey } = recordPath(did, recordUri);
    const before = opts.created ? new Set<string>() : new Set(this.#meta.refsOfRecord(did, collection, rkey));
    if (blobs.length === 0 && before.size === 0) return [];
    const rows = new Map<string, BlobRow>();
    for (const field of blobs) {
      let row = rows.get(field.cid);
      if (!row) {
        row = this.#meta.get(did, field.cid);
        if (!row || row.takedownRef) throw new BlobRefError('BlobNotFound', `Could not find blob: ${field.cid}`, field.path);
        rows.set(field.cid, row);
      }
      checkRef(field, row, !before.has(field.cid));
    }
    return this.#db.transaction(() => this.#relink(did, collection, rkey, before, rows.keys()));
  }

  /**
   * Like applyRecordBlobs for records that arrive whole from elsewhere (a repo import): the refs
   * are recorded without checks, and blobs not uploaded yet become listMissingBlobs entries.
   */
  applyImportedRecordBlobs(did: string, recordUri: string, cids: readonly string[]): string[] {
    const { collection, rkey } = recordPath(did, recordUri);
    const before = new Set(this.#meta.refsOfRecord(did, collection, rkey));
    if (cids.length === 0 && before.size === 0) return [];
    return this.#db.transaction(() => this.#relink(did, collection, rkey, before, cids));
  }

  /**
   * Inside a repo import's transaction: the account's blob references become exactly `refs`
   * (record path, blob CID), recorded without checks; blobs not uploaded yet are what
   * listMissingBlobs reports. Blobs held here that are now referenced become permanent; those
   * no longer referenced are returned, for deleteUnreferenced once the import is durable.
   */
  replaceImportedRefs(did: string, refs: Iterable<[path: string, cid: string]>): string[] {
    return this.#db.transaction(() => {
      this.#meta.deleteRefsOfAccount(did);
      for (const [path, cid] of refs) {
        const slash = path.indexOf('/');
        this.#meta.addRef(did, cid, path.slice(0, slash), path.slice(slash + 1));
      }
      this.#meta.makeReferencedPermanent(did);
      const now = this.#now().toISOString();
      const freed = this.#meta.unreferencedPermanent(did);
      for (const cid of freed) this.#meta.markUnreferenced(did, cid, now);
      return freed;
    });
  }

  /**
   * After the transaction that returned `cids` committed: deletes the files and rows of those
   * blobs still unreferenced and not uploaded again since. Never throws (the commit already
   * happened); a failure is logged and the TTL collects the blob later.
   */
  async deleteUnreferenced(did: string, cids: readonly string[]): Promise<void> {
    await Promise.all(
      [...new Set(cids)].map((cid) =>
        this.#locks
          .run(lockKey(did, cid), async () => {
            if (this.#meta.deleteIfUnreferenced(did, cid)) await this.#store.delete(did, cid);
          })
          .catch((err: unknown) => this.#log.error({ err, did, cid }, 'could not delete an unreferenced blob')),
      ),
    );
  }

  /** Account deletion: every blob row, reference and file of the account. */
  async deleteAccountBlobs(did: string): Promise<void> {
    this.#meta.deleteAccount(did);
    await this.#store.deleteAll(did);
  }

  /**
   * Deletes temporary blobs older than the TTL and leftover temp files of interrupted uploads.
   * Returns how many blobs were deleted.
   */
  async collectExpired(now: Date = this.#now()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.tempTtlMs).toISOString();
    let deleted = 0;
    for (;;) {
      const batch = this.#meta.expired(cutoff, this.#expiryBatch);
      let progress = 0;
      for (const { did, cid } of batch) {
        const gone = await this.#locks.run(lockKey(did, cid), async () => {
          if (!this.#meta.deleteIfExpired(did, cid, cutoff)) return false;
          await this.#store.delete(did, cid);
          return true;
        });
        if (gone) progress++;
      }
      deleted += progress;
      if (batch.length < this.#expiryBatch || progress === 0) break;
    }
    await this.#sweepTempFiles(now.getTime() - this.tempTtlMs);
    return deleted;
  }

  /** Runs collectExpired every `intervalMs` (never two at once); returns the function that stops it. */
  startCollector(intervalMs = 10 * 60 * 1000): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.collectExpired()
        .catch((err: unknown) => this.#log.error({ err }, 'blob expiry failed'))
        .finally(() => (running = false));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** A blob getBlob may serve: referenced (not temporary) and not taken down. */
  servable(did: string, cid: string): ServableBlob {
    const row = this.#meta.get(did, cid);
    if (!row || row.temp || row.takedownRef) throw new BlobNotFoundError(cid);
    return { cid, mimeType: row.mimeType, size: row.size };
  }

  /**
   * The bytes of a servable blob (or an inclusive range of them, inside the blob). A file whose
   * size is not the one its metadata records (cut short, or replaced, on disk) is not served: the
   * answer has already promised that many bytes, so it would end short, or run into the next
   * answer on the connection. Like a file that is gone, it is logged for the operator and answers
   * BlobNotFound.
   */
  async read(did: string, blob: ServableBlob, range?: ByteRange): Promise<Readable> {
    const { cid } = blob;
    let found;
    try {
      found = await this.#store.get(did, cid, range);
    } catch (err) {
      // A range inside the recorded size but outside a shorter file is the same fault.
      const file = range && err instanceof BlobStoreError ? await this.#store.stat(did, cid) : undefined;
      if (file && file.size !== blob.size) throw this.#damaged(did, blob, file.size);
      throw err;
    }
    if (!found) {
      this.#log.error({ did, cid }, 'blob metadata without its file');
      throw new BlobNotFoundError(cid);
    }
    if (found.size !== blob.size) {
      found.stream.destroy();
      throw this.#damaged(did, blob, found.size);
    }
    return found.stream;
  }

  #damaged(did: string, blob: ServableBlob, fileSize: number): BlobNotFoundError {
    this.#log.error({ did, cid: blob.cid, size: blob.size, fileSize }, 'blob file is not the size its metadata records');
    return new BlobNotFoundError(blob.cid);
  }

  listBlobs(did: string, opts: { since?: string; cursor?: string; limit: number }): { cids: string[]; cursor?: string } {
    const cids = this.#meta.list(did, { ...opts, limit: opts.limit + 1 });
    const page = cids.slice(0, opts.limit);
    return cids.length > opts.limit ? { cids: page, cursor: page[page.length - 1] } : { cids: page };
  }

  listMissingBlobs(did: string, opts: { cursor?: string; limit: number }): { blobs: Array<{ cid: string; recordUri: string }>; cursor?: string } {
    const rows = this.#meta.listMissing(did, { ...opts, limit: opts.limit + 1 });
    const blobs = rows.slice(0, opts.limit).map((r) => ({ cid: r.cid, recordUri: `at://${did}/${r.collection}/${r.rkey}` }));
    return rows.length > opts.limit ? { blobs, cursor: blobs[blobs.length - 1].cid } : { blobs };
  }

  /** Takes a blob down (a ref) or restores it (null). False when the account has no such blob. */
  setTakedown(did: string, cid: string, ref: string | null): boolean {
    return this.#meta.setTakedown(did, cid, ref);
  }

  #relink(did: string, collection: string, rkey: string, before: ReadonlySet<string>, wanted: Iterable<string>): string[] {
    const now = this.#now().toISOString();
    const keep = new Set(wanted);
    for (const cid of keep) {
      if (!before.has(cid)) this.#meta.addRef(did, cid, collection, rkey);
      this.#meta.makePermanent(did, cid);
    }
    const freed: string[] = [];
    for (const cid of before) {
      if (keep.has(cid)) continue;
      this.#meta.removeRef(did, cid, collection, rkey);
      if (this.#meta.isReferenced(did, cid)) continue;
      if (this.#meta.get(did, cid)) {
        this.#meta.markUnreferenced(did, cid, now);
        freed.push(cid);
      }
    }
    return freed;
  }

  async #sweepTempFiles(olderThanMs: number): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.#tmpDir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const file = join(this.#tmpDir, name);
      try {
        if ((await stat(file)).mtimeMs < olderThanMs) await unlink(file);
      } catch {
        // Gone already (an upload finishing): nothing to sweep.
      }
    }
  }
}

function lockKey(did: string, cid: string): string {
  return `${did} ${cid}`;
}

function blobRef(row: BlobRow): BlobRefJson {
  return { $type: 'blob', ref: { $link: row.cid }, mimeType: row.mimeType, size: row.size };
}

/** The (collection, rkey) of `at://<did>/<collection>/<rkey>`; the write path always builds it so. */
function recordPath(did: string, uri: string): { collection: string; rkey: string } {
  const prefix = `at://${did}/`;
  const rest = uri.startsWith(prefix) ? uri.slice(prefix.length) : '';
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1 || rest.indexOf('/', slash + 1) !== -1) {
    throw new Error(`not a record URI of ${did}: ${uri}`);
  }
  return { collection: rest.slice(0, slash), rkey: rest.slice(slash + 1) };
}

/**
 * A ref must tell the truth about the stored blob when it is first made (a ref the record
 * already had is not re-judged, so an old record can be updated around it), and the stored
 * blob must fit the field's Lexicon constraints, judged on the stored size and sniffed type.
 */
function checkRef(field: BlobField, row: BlobRow, isNewRef: boolean): void {
  if (isNewRef) {
    if (field.mimeType !== row.mimeType) {
      throw new BlobRefError('InvalidMimeType', `Referenced MIME type does not match the stored blob ${row.cid}: expected ${row.mimeType}, got ${field.mimeType}`, field.path);
    }
    if (field.size !== undefined && field.size !== row.size) {
      throw new BlobRefError('InvalidSize', `Referenced size does not match the stored blob ${row.cid}: expected ${row.size}, got ${field.size}`, field.path);
    }
  }
  if (field.maxSize !== undefined && row.size > field.maxSize) {
    throw new BlobRefError('BlobTooLarge', `Blob ${row.cid} at ${field.path} is ${row.size} bytes; the field allows at most ${field.maxSize}`, field.path);
  }
  if (field.accept !== undefined && !acceptsMimeType(field.accept, row.mimeType)) {
    throw new BlobRefError('InvalidMimeType', `Blob ${row.cid} at ${field.path} is ${row.mimeType}; the field accepts ${field.accept.join(', ')}`, field.path);
  }
}
