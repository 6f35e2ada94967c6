import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Directories of backups and restored data directories: the owner's only, as the data directory. */
export const DIR_MODE = 0o700;
/** Files in them: the database and secrets are as private as the data directory's. */
export const FILE_MODE = 0o600;

const CHUNK = 1024 * 1024;

export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
}

/**
 * Copies `from` to `to` (created with FILE_MODE, never over an existing file), hashing the bytes
 * as they pass, then fsyncs the copy. Returns the size and the SHA-256 (hex).
 */
export async function copyHashed(from: string, to: string, onBytes?: (n: number) => void): Promise<{ bytes: number; sha256: string }> {
  await makePrivateDir(dirname(to));
  const source = await open(from, 'r');
  try {
    const target = await open(to, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
    try {
      const hash = createHash('sha256');
      const buffer = Buffer.allocUnsafe(CHUNK);
      let bytes = 0;
      for (;;) {
        const { bytesRead } = await source.read(buffer, 0, CHUNK, null);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        let written = 0;
        while (written < bytesRead) written += (await target.write(chunk, written, bytesRead - written)).bytesWritten;
        bytes += bytesRead;
        onBytes?.(bytesRead);
      }
      await target.sync();
      return { bytes, sha256: hash.digest('hex') };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** SHA-256 (hex) and size of a file. */
export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** Hard-links `from` as `to`; false when the filesystem will not (another device, no links). */
export async function tryLink(from: string, to: string): Promise<boolean> {
  await makePrivateDir(dirname(to));
  try {
    await link(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP' || code === 'ENOENT') return false;
    throw err;
  }
}

/** fsyncs a directory, so the entries just made in it survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** True when `dir` does not exist or holds nothing. */
export async function isEmptyOrAbsent(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

export async function removeTree(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
