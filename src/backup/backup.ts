import BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DiskBlobStore } from '../blobs/disk-blob-store.ts';
import { tryParseCid } from '../ipld/cid.ts';
import { copyHashed, FILE_MODE, hashFile, makePrivateDir, syncDir, tryLink } from './files.ts';
import { BLOBS_DIR, CHECKSUMS_FILE, DATABASE_FILE, formatChecksums, MANIFEST_FILE, parseChecksums, SECRETS_FILE, type BackupManifest } from './manifest.ts';
import { estimateSnapshotBytes, snapshotDatabase } from './snapshot.ts';

export interface BackupOptions {
  /** Where the live server keeps its data. */
  storage: { dataDir: string; dbFile: string; blobDir: string };
  /** The backup root: each backup is a directory `squall-<time>` in it. */
  root: string;
  /** Link blobs unchanged since the newest backup in `root` instead of copying them (default true). */
  incremental?: boolean;
  server: { version: string; hostname: string; serviceDid: string };
  /** Some secrets come from the environment, so the secrets file alone cannot restore them. */
  secretsInEnvironment?: boolean;
  onProgress?: (progress: BackupProgress) => void;
  now?: () => Date;
  /** Stops the backup (server shutdown); the unfinished directory is removed. */
  signal?: AbortSignal;
}

export interface BackupProgress {
  phase: 'blobs' | 'database' | 'finishing';
  files: number;
  totalFiles: number;
  bytes: number;
  totalBytes: number;
  /** Seconds left at the pace so far, once there is a pace. */
  etaSeconds?: number;
}

export interface BackupResult {
  dir: string;
  manifest: BackupManifest;
  /** Damage found in the live data while copying (the backup holds everything else). */
  problems: string[];
}

const PREFIX = 'squall-';
/** Database snapshots taken at most, when referenced blobs keep vanishing between snapshot and copy. */
const SNAPSHOT_ATTEMPTS = 3;

interface BlobRow {
  did: string;
  cid: string;
  size: number;
  temp: number;
}

/** The complete backups in `root` (those with a manifest), oldest first. */
export async function listBackups(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => n.startsWith(PREFIX) && existsSync(join(root, n, MANIFEST_FILE))).sort();
}

/**
 * An online backup of a running (or stopped) server's data directory, consistent as of one
 * moment: blobs are copied first, then the database is snapshotted (VACUUM INTO in a worker),
 * then the blobs that snapshot knows and that were not copied yet (uploads during the first
 * pass) are copied, and files of blobs deleted meanwhile dropped. Should a blob the snapshot
 * references vanish before it is copied (its record deleted at that very moment), the database
 * is snapshotted again. Every blob's bytes are hashed against its CID on the way. The backup is
 * built under a hidden name and renamed into place once its checksums and manifest are on disk.
 */
export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const name = `${PREFIX}${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  await makePrivateDir(options.root);
  if (existsSync(join(options.root, name))) throw new Error(`a backup named ${name} exists already`);
  const work = join(options.root, `.${name}.partial`);
  await rm(work, { recursive: true, force: true });
  await makePrivateDir(work);
  try {
    return await build(options, name, work, started, now);
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

async function build(options: BackupOptions, name: string, work: string, started: Date, now: () => Date): Promise<BackupResult> {
  const { storage } = options;
  const problems: string[] = [];
  const notes: string[] = [];
  const live = new DiskBlobStore(storage.blobDir);
  const copy = new DiskBlobStore(join(work, BLOBS_DIR));
  const sums = new Map<string, string>();
  const previous = options.incremental === false ? undefined : (await listBackups(options.root)).at(-1);
  const previousSums = previous ? parseChecksums(await readFile(join(options.root, previous, CHECKSUMS_FILE), 'utf8')) : new Map<string, string>();

  const liveRows = readBlobRows(storage.dbFile);
  const dbEstimate = estimateSnapshotBytes(storage.dbFile);
  const progress = new Progress(options.onProgress, liveRows.length + 2, liveRows.reduce((n, r) => n + r.size, 0) + dbEstimate);
  const stats = { files: 0, bytes: 0, copied: 0, copiedBytes: 0, linked: 0 };

  /** Copies (or links) one blob; false when its file is not there (deleted since it was listed). */
  const takeBlob = async (row: BlobRow): Promise<boolean> => {
    options.signal?.throwIfAborted();
    const path = copy.pathOf(row.did, row.cid);
    const rel = relative(work, path);
    if (sums.has(rel)) return true;
    const cid = tryParseCid(row.cid);
    if (!cid) {
      problems.push(`blob ${row.did} ${row.cid}: not a valid CID; not backed up`);
      return true;
    }
    const expected = Buffer.from(cid.digest.contents).toString('hex');
    if (previousSums.get(rel) === expected && (await tryLink(join(options.root, previous!, rel), path))) {
      sums.set(rel, expected);
      stats.linked++;
      progress.advance(1, row.size, 'blobs');
      return true;
    }
    let copied;
    try {
      copied = await copyHashed(live.pathOf(row.did, row.cid), path, (n) => progress.advance(0, n, 'blobs'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    progress.advance(1, 0, 'blobs');
    if (copied.sha256 !== expected) {
      await unlink(path);
      problems.push(`blob ${row.did} ${row.cid} in the data directory does not match its CID (its bytes are corrupt); not backed up`);
      return true;
    }
    sums.set(rel, copied.sha256);
    stats.copied++;
    stats.copiedBytes += copied.bytes;
    return true;
  };

  for (const row of liveRows) await takeBlob(row);

  const dbPath = join(work, DATABASE_FILE);
  let snapshotAt = now();
  let snapshotRows: BlobRow[] = [];
  for (let attempt = 1; ; attempt++) {
    await rm(dbPath, { force: true });
    snapshotAt = now();
    let last = 0;
    await snapshotDatabase(
      storage.dbFile,
      dbPath,
      (bytes) => {
        progress.advance(0, Math.max(0, bytes - last), 'database');
        last = Math.max(last, bytes);
      },
      options.signal,
    );
    snapshotRows = readBlobRows(dbPath);
    const vanished: BlobRow[] = [];
    for (const row of snapshotRows) if (!(await takeBlob(row)) && !row.temp) vanished.push(row);
    if (vanished.length === 0) break;
    if (attempt === SNAPSHOT_ATTEMPTS) {
      for (const row of vanished) problems.push(`blob ${row.did} ${row.cid} was deleted during the backup, after the database snapshot that references it`);
      break;
    }
  }
  progress.advance(1, 0, 'finishing');

  // Blobs copied in the first pass that the snapshot no longer has were deleted before it.
  const wanted = new Set(snapshotRows.map((r) => relative(work, copy.pathOf(r.did, r.cid))));
  for (const rel of [...sums.keys()]) {
    if (wanted.has(rel)) continue;
    await unlink(join(work, rel));
    sums.delete(rel);
  }
  for (const row of snapshotRows) {
    if (!sums.has(relative(work, copy.pathOf(row.did, row.cid)))) continue;
    stats.files++;
    stats.bytes += row.size;
  }
  const temporaryMissing = snapshotRows.filter((r) => r.temp && !sums.has(relative(work, copy.pathOf(r.did, r.cid)))).length;
  if (temporaryMissing > 0) notes.push(`${temporaryMissing} temporary uploads deleted during the backup are not in it`);

  const database = await hashFile(dbPath);
  const facts = readFacts(dbPath);
  const entries: Array<[string, string]> = [[DATABASE_FILE, database.sha256]];
  let secrets: BackupManifest['secrets'] = null;
  const secretsFile = join(storage.dataDir, SECRETS_FILE);
  if (existsSync(secretsFile)) {
    const copied = await copyHashed(secretsFile, join(work, SECRETS_FILE));
    secrets = { file: SECRETS_FILE, sha256: copied.sha256 };
    entries.push([SECRETS_FILE, copied.sha256]);
  }
  if (options.secretsInEnvironment) notes.push('some secrets are set in the environment, not in secrets.json: keep a copy of the environment (pds.env) with the backups');
  entries.push(...[...sums].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  const checksums = formatChecksums(entries);
  await writeFile(join(work, CHECKSUMS_FILE), checksums, { mode: FILE_MODE, flush: true });

  const manifest: BackupManifest = {
    format: 'squall-backup',
    version: 1,
    startedAt: started.toISOString(),
    snapshotAt: snapshotAt.toISOString(),
    completedAt: now().toISOString(),
    squallVersion: options.server.version,
    hostname: options.server.hostname,
    serviceDid: options.server.serviceDid,
    database: { file: DATABASE_FILE, bytes: database.bytes, sha256: database.sha256, ...facts },
    secrets,
    blobs: { files: stats.files, bytes: stats.bytes, copied: stats.copied, copiedBytes: stats.copiedBytes, linked: stats.linked },
    incrementalFrom: previous ?? null,
    checksums: { file: CHECKSUMS_FILE, sha256: (await hashFile(join(work, CHECKSUMS_FILE))).sha256 },
    notes,
  };
  await writeFile(join(work, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: FILE_MODE, flush: true });
  await syncTree(work);
  const dir = join(options.root, name);
  await rename(work, dir);
  await syncDir(options.root);
  return { dir, manifest, problems };
}

function readBlobRows(dbFile: string): BlobRow[] {
  const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT did, cid, size, temp FROM blob ORDER BY did, cid').all() as BlobRow[];
  } finally {
    db.close();
  }
}

function readFacts(dbFile: string): { accounts: number; repos: number; latestSeq: number } {
  const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string) => db.prepare(sql).pluck().get() as number;
    return {
      accounts: count('SELECT count(*) FROM account'),
      repos: count('SELECT count(*) FROM repo_root'),
      latestSeq: count('SELECT coalesce(max(seq), 0) FROM repo_seq'),
    };
  } finally {
    db.close();
  }
}

/** fsyncs every directory under `dir` (files were fsynced as they were written). */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await syncTree(join(dir, entry.name));
  }
  await syncDir(dir);
}

/** Counts files and bytes and reports them, at most every 200 ms, with an ETA from the pace so far. */
class Progress {
  #files = 0;
  #bytes = 0;
  #last = 0;
  readonly #started = performance.now();

  constructor(
    private readonly report: BackupOptions['onProgress'],
    private readonly totalFiles: number,
    private readonly totalBytes: number,
  ) {}

  advance(files: number, bytes: number, phase: BackupProgress['phase']): void {
    this.#files += files;
    this.#bytes += bytes;
    if (!this.report) return;
    const now = performance.now();
    if (now - this.#last < 200 && phase !== 'finishing') return;
    this.#last = now;
    const elapsed = (now - this.#started) / 1000;
    const rate = elapsed > 0.5 ? this.#bytes / elapsed : 0;
    const left = Math.max(0, this.totalBytes - this.#bytes);
    this.report({
      phase,
      files: this.#files,
      totalFiles: this.totalFiles,
      bytes: this.#bytes,
      totalBytes: Math.max(this.totalBytes, this.#bytes),
      etaSeconds: rate > 0 ? left / rate : undefined,
    });
  }
}
