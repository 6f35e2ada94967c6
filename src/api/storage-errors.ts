import type { Logger } from '../logger.ts';
import { NotEnoughResourcesError, type XrpcError } from '../xrpc/index.ts';

/** SQLite's and the file system's ways of saying the data volume is full (or the user's quota is used up). */
const STORAGE_FULL_CODES: ReadonlySet<string> = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

/** How often the log repeats that the storage is full while writes keep failing. */
const REPEAT_LOG_MS = 60_000;

export function isStorageFull(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && STORAGE_FULL_CODES.has(code);
}

/**
 * Adds running out of storage to an error mapping: the client gets 503 NotEnoughResources (the
 * XRPC spec's "retry after a delay"; the write that hit it was rolled back, nothing of it was
 * acknowledged), and the operator gets an error line at once, then one a minute with the count
 * of writes refused meanwhile, not one per request.
 */
export function mapStorageFull(log: Logger, next: (err: unknown) => XrpcError | undefined): (err: unknown) => XrpcError | undefined {
  let lastLogged = -Infinity;
  let refused = 0;
  return (err) => {
    if (!isStorageFull(err)) return next(err);
    refused++;
    const now = performance.now();
    if (now - lastLogged >= REPEAT_LOG_MS) {
      log.error({ err, refusedWrites: refused }, 'out of storage space: writes are refused (503) until space is freed on the data volume; nothing refused was acknowledged');
      lastLogged = now;
      refused = 0;
    }
    return new NotEnoughResourcesError('The server is out of storage space; nothing was written. Try again later.');
  };
}
