import { accessSync, constants } from 'node:fs';
import type { Config } from '../config.ts';
import type { Database } from '../db/index.ts';

const CACHE_MS = 1000;
const cache = new WeakMap<Database, { at: number; problem: string | undefined }>();

/**
 * Whether storage accepts writes: the database can take its write lock and the data and blob
 * directories are writable. Cached for a second so that health probes stay nearly free.
 */
export function checkStorage(deps: { db: Database; config: Config }, now = Date.now()): string | undefined {
  const cached = cache.get(deps.db);
  if (cached && now - cached.at < CACHE_MS) return cached.problem;
  let problem: string | undefined;
  try {
    deps.db.checkWritable();
  } catch (err) {
    problem = `database is not writable: ${(err as Error).message}`;
  }
  if (!problem) {
    for (const dir of [deps.config.storage.dataDir, deps.config.storage.blobDir]) {
      try {
        accessSync(dir, constants.W_OK);
      } catch {
        problem = `storage directory is not writable: ${dir}`;
        break;
      }
    }
  }
  cache.set(deps.db, { at: now, problem });
  return problem;
}
