import BetterSqlite3 from 'better-sqlite3';
import { chmod, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Worker as WorkerType } from 'node:worker_threads';

/** The size a compact copy of the database will have, roughly: its used pages. */
export function estimateSnapshotBytes(dbFile: string): number {
  const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
  try {
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const size = db.pragma('page_size', { simple: true }) as number;
    return (pages - free) * size;
  } finally {
    db.close();
  }
}

/**
 * Writes a consistent copy of the live database to `target` (VACUUM INTO, in a worker thread,
 * on a read-only connection of its own), while the server goes on writing. `onBytes` is called
 * with the bytes written so far every `pollMs`.
 */
export async function snapshotDatabase(dbFile: string, target: string, onBytes?: (bytes: number) => void, signal?: AbortSignal, pollMs = 250): Promise<void> {
  signal?.throwIfAborted();
  // VACUUM INTO takes an empty file: made here with the owner-only mode the copy must keep.
  await writeFile(target, '', { mode: 0o600, flag: 'wx' });
  await chmod(target, 0o600);
  const script = new URL(import.meta.url.endsWith('.ts') ? './snapshot-worker.ts' : './snapshot-worker.js', import.meta.url);
  // node:worker_threads (~2 MB resident) is loaded by the first snapshot, not by every server at boot.
  const { Worker } = createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof WorkerType };
  const worker = new Worker(script, { workerData: { source: dbFile, target } });
  const timer = onBytes
    ? setInterval(() => {
        stat(target).then(
          (s) => onBytes(s.size),
          () => {},
        );
      }, pollMs)
    : undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', (message: { ok: boolean; message?: string }) => (message.ok ? resolve() : reject(new Error(`database snapshot failed: ${message.message}`))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`database snapshot worker exited (${code})`)));
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  } finally {
    clearInterval(timer);
    await worker.terminate();
  }
  onBytes?.((await stat(target)).size);
}
