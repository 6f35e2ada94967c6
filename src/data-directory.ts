import { chmodSync, closeSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Config } from './config.ts';

/** Modes of everything Squall keeps: the database holds every account's signing key. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

export interface ModeFix {
  path: string;
  /** The permission bits found, in octal (`644`). */
  was: string;
}

/** A path whose mode could not be made private (not ours to change, a read-only file system...). */
export class PrivateModeError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path} is readable by other users and its mode could not be changed (${reason}); make it 0600 (files) or 0700 (directories), owned by the user running Squall`);
  }
}

/**
 * Makes everything Squall stores private to its user: every file 0600 and every directory 0700
 * under the data directory, the blob directories and the database location (when they are
 * elsewhere: there only the database and its -wal and -shm files). Symbolic links are not
 * followed. Returns what had to change; throws `PrivateModeError` for what cannot be changed.
 */
export function makeStoragePrivate(storage: Config['storage']): ModeFix[] {
  const fixes: ModeFix[] = [];
  const trees = [storage.dataDir, storage.blobDir, storage.blobTmpDir].filter(
    (dir, i, all) => !all.some((other, j) => j !== i && isInside(dir, other) && (dir !== other || j < i)),
  );
  for (const tree of trees) walk(tree, fixes);
  if (!trees.some((tree) => isInside(storage.dbFile, tree))) {
    for (const file of [storage.dbFile, `${storage.dbFile}-wal`, `${storage.dbFile}-shm`]) fix(file, fixes);
  }
  return fixes;
}

/** Creates an empty file readable by its owner only, unless it exists (SQLite then opens it as it is). */
export function createPrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
}

function walk(path: string, fixes: ModeFix[]): void {
  const isDir = fix(path, fixes);
  if (!isDir) return;
  for (const name of readdirSync(path)) walk(join(path, name), fixes);
}

/** Fixes one path's mode; says whether it is a directory to walk into. */
function fix(path: string, fixes: ModeFix[]): boolean {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  if (stat.isSymbolicLink()) return false;
  const isDir = stat.isDirectory();
  const wanted = isDir ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
  const bits = stat.mode & 0o777;
  if ((bits & 0o077) !== 0) {
    try {
      chmodSync(path, wanted);
    } catch (err) {
      throw new PrivateModeError(path, (err as NodeJS.ErrnoException).code ?? String(err));
    }
    fixes.push({ path, was: bits.toString(8) });
  }
  return isDir;
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}
