import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The description of a complete backup, written last: a directory without it is not a backup. */
export interface BackupManifest {
  format: 'squall-backup';
  version: 1;
  /** When the backup started and when its database snapshot was taken. */
  startedAt: string;
  snapshotAt: string;
  completedAt: string;
  squallVersion: string;
  hostname: string;
  serviceDid: string;
  database: { file: string; bytes: number; sha256: string; accounts: number; repos: number; latestSeq: number };
  /** The secrets file, when the server keeps one (secrets set in the environment are not in it). */
  secrets: { file: string; sha256: string } | null;
  blobs: { files: number; bytes: number; copied: number; copiedBytes: number; linked: number };
  /** The backup blobs were linked from (incremental), if any. */
  incrementalFrom: string | null;
  /** `sha256sum -c SHA256SUMS` checks every file of the backup; its own hash is here. */
  checksums: { file: string; sha256: string };
  notes: string[];
}

export const MANIFEST_FILE = 'manifest.json';
export const CHECKSUMS_FILE = 'SHA256SUMS';
export const DATABASE_FILE = 'squall.sqlite';
export const SECRETS_FILE = 'secrets.json';
export const BLOBS_DIR = 'blobs';

export class BackupFormatError extends Error {}

/** Lines in `sha256sum` format: `<hex>  <path>`, paths relative to the backup directory. */
export function formatChecksums(entries: Iterable<[path: string, sha256: string]>): string {
  let text = '';
  for (const [path, sha256] of entries) text += `${sha256}  ${path}\n`;
  return text;
}

export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match || match[2].startsWith('/') || match[2].split('/').includes('..')) throw new BackupFormatError(`${CHECKSUMS_FILE} line ${i + 1} is not "<sha256>  <relative path>"`);
    out.set(match[2], match[1]);
  }
  return out;
}

export async function readManifest(dir: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupFormatError(`${dir} has no ${MANIFEST_FILE}: not a complete Squall backup`);
    throw err;
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(text) as BackupManifest;
  } catch {
    throw new BackupFormatError(`${join(dir, MANIFEST_FILE)} is not JSON`);
  }
  if (manifest.format !== 'squall-backup') throw new BackupFormatError(`${join(dir, MANIFEST_FILE)} is not a Squall backup manifest`);
  if (manifest.version !== 1) throw new BackupFormatError(`backup format version ${String(manifest.version)} is not one this Squall reads (1)`);
  return manifest;
}
