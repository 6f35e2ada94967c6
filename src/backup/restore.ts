import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Database, migrate, migrations } from '../db/index.ts';
import { DatabaseInUseError, lockDatabase, type ServerLock } from '../db/server-lock.ts';
import { copyHashed, hashFile, isEmptyOrAbsent, makePrivateDir, syncDir } from './files.ts';
import { verifyDataDir, type IntegrityReport } from './integrity.ts';
import { BLOBS_DIR, CHECKSUMS_FILE, DATABASE_FILE, parseChecksums, readManifest, SECRETS_FILE, type BackupManifest } from './manifest.ts';

export interface RestoreOptions {
  /** A backup directory (`squall-<time>`, with its manifest). */
  backup: string;
  /** Where the restored server's data goes: all of it must be empty or absent. */
  target: { dataDir: string; dbFile: string; blobDir: string };
  onProgress?: (progress: { files: number; totalFiles: number; bytes: number; totalBytes: number }) => void;
  onVerifyProgress?: Parameters<typeof verifyDataDir>[0]['onProgress'];
}

export interface RestoreResult {
  manifest: BackupManifest;
  files: number;
  bytes: number;
  /** Checksum lines that failed (the restore stopped before verifying). */
  checksumProblems: string[];
  /** The verification of the restored data; absent when the checksums failed. */
  report?: IntegrityReport;
}

/** A restore refused before anything was written (a live or non-empty target, a broken backup). */
export class RestoreRefusedError extends Error {}

/**
 * Restores a backup into an empty data directory: checks the manifest and the checksum list,
 * copies every file (hashing each against the list as it is copied), brings the database
 * schema up to this version, then verifies the restored data (repos, record index, blobs,
 * sequencer log). Never writes into a directory that holds anything, and holds the target
 * database's server lock while it copies and verifies, so no server starts on half the data.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const { backup, target } = options;
  const manifest = await readManifest(backup);
  const sumsPath = join(backup, CHECKSUMS_FILE);
  if (!existsSync(sumsPath)) throw new RestoreRefusedError(`${sumsPath} is missing`);
  const sumsHash = await hashFile(sumsPath);
  if (sumsHash.sha256 !== manifest.checksums.sha256) throw new RestoreRefusedError(`${CHECKSUMS_FILE} does not match the manifest's checksum: the backup was altered or damaged`);
  const sums = parseChecksums(await readFile(sumsPath, 'utf8'));
  if (sums.get(DATABASE_FILE) !== manifest.database.sha256) throw new RestoreRefusedError(`${CHECKSUMS_FILE} and the manifest disagree about ${DATABASE_FILE}`);
  for (const dir of new Set([target.dataDir, target.blobDir])) {
    if (!(await isEmptyOrAbsent(dir))) throw new RestoreRefusedError(`${dir} is not empty: restore into a new directory (a live data directory is never overwritten)`);
  }
  if (existsSync(target.dbFile)) throw new RestoreRefusedError(`${target.dbFile} exists: restore into a new directory (a live database is never overwritten)`);

  const destination = (rel: string): string => {
    if (rel === DATABASE_FILE) return target.dbFile;
    if (rel === SECRETS_FILE) return join(target.dataDir, SECRETS_FILE);
    if (rel.startsWith(`${BLOBS_DIR}/`)) return join(target.blobDir, rel.slice(BLOBS_DIR.length + 1));
    throw new RestoreRefusedError(`${CHECKSUMS_FILE} lists ${rel}, which is no part of a Squall backup`);
  };
  let totalBytes = 0;
  for (const rel of sums.keys()) {
    destination(rel);
    try {
      totalBytes += (await stat(join(backup, rel))).size;
    } catch {
      // reported below, file by file
    }
  }
  for (const dir of new Set([target.dataDir, target.blobDir, dirname(target.dbFile)])) await makePrivateDir(dir);
  // No server may start on the target while it is being filled (db/server-lock.ts).
  const lock = lockTarget(target.dbFile);
  try {
    return await copyAndVerify(options, manifest, sums, destination, totalBytes);
  } finally {
    lock.release();
  }
}

function lockTarget(dbFile: string): ServerLock {
  try {
    return lockDatabase(dbFile);
  } catch (err) {
    if (err instanceof DatabaseInUseError) throw new RestoreRefusedError(`a Squall server is running on ${dbFile}: restore into a new directory (a live database is never overwritten)`);
    throw err;
  }
}

async function copyAndVerify(
  options: RestoreOptions,
  manifest: BackupManifest,
  sums: Map<string, string>,
  destination: (rel: string) => string,
  totalBytes: number,
): Promise<RestoreResult> {
  const { backup, target } = options;
  const checksumProblems: string[] = [];
  let files = 0;
  let bytes = 0;
  let lastReport = 0;
  for (const [rel, sha256] of sums) {
    let copied;
    try {
      copied = await copyHashed(join(backup, rel), destination(rel), (n) => {
        bytes += n;
        if (performance.now() - lastReport > 200) {
          lastReport = performance.now();
          options.onProgress?.({ files, totalFiles: sums.size, bytes, totalBytes });
        }
      });
    } catch (err) {
      checksumProblems.push(`${rel}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing from the backup' : (err as Error).message}`);
      continue;
    }
    files++;
    if (copied.sha256 !== sha256) checksumProblems.push(`${rel}: sha256 ${copied.sha256} is not the ${sha256} the backup recorded (the file is damaged)`);
  }
  options.onProgress?.({ files, totalFiles: sums.size, bytes, totalBytes });
  for (const dir of new Set([target.dataDir, target.blobDir, dirname(target.dbFile)])) await syncDir(dir);
  if (checksumProblems.length > 0) return { manifest, files, bytes, checksumProblems };

  // A backup of an older Squall is brought up to this version's schema, as a start would.
  const db = new Database(target.dbFile);
  try {
    const migrated = migrate(db, migrations);
    if (migrated.error) throw new Error(`migrating the restored database failed at ${migrated.error.id} (${migrated.error.name}): ${migrated.error.message}`);
  } finally {
    db.close();
  }
  const report = await verifyDataDir({ dbFile: target.dbFile, blobDir: target.blobDir, onProgress: options.onVerifyProgress });
  return { manifest, files, bytes, checksumProblems, report };
}
