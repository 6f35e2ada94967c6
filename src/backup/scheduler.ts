import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { createBackup, listBackups } from './backup.ts';
import { readManifest } from './manifest.ts';

export interface ScheduleLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BackupSchedule {
  /** Runs a backup now (unless one is running), then prunes; resolves when done. */
  runNow(): Promise<void>;
  /** Stops the timer and aborts a backup in progress (its unfinished directory is removed). */
  stop(): Promise<void>;
}

export interface ScheduleDeps {
  config: Pick<Config, 'version' | 'service' | 'storage' | 'secrets'> & { backup: NonNullable<Config['backup']> };
  log: ScheduleLogger;
  metrics?: { backupSucceeded(at: Date, seconds: number, bytes: number): void; backupFailed(): void };
  /** Wait before the first backup when one is due at start (default one minute: let the server settle). */
  firstDelayMs?: number;
}

/**
 * Scheduled backups (PDS_BACKUP_*): one every interval, counted from the newest backup in the
 * directory (so a restart neither skips one nor takes an extra), the oldest deleted past `keep`.
 * The work is the `backup` command's, in this process: the database snapshot runs in a worker
 * thread and blob copies are asynchronous, so requests are served meanwhile.
 */
export function startBackupSchedule(deps: ScheduleDeps): BackupSchedule {
  const { config, log, metrics } = deps;
  const { dir, intervalMs, keep } = config.backup;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const abort = new AbortController();

  async function run(): Promise<void> {
    const started = performance.now();
    try {
      const result = await createBackup({
        storage: config.storage,
        root: dir,
        server: { version: config.version, hostname: config.service.hostname, serviceDid: config.service.did },
        secretsInEnvironment: Object.values(config.secrets).some((v) => v !== undefined),
        signal: abort.signal,
      });
      const seconds = (performance.now() - started) / 1000;
      const m = result.manifest;
      log.info({ dir: result.dir, seconds: Math.round(seconds * 10) / 10, blobs: m.blobs.files, copied: m.blobs.copied, linked: m.blobs.linked, databaseBytes: m.database.bytes }, 'scheduled backup written');
      for (const problem of result.problems) log.error({ dir: result.dir, problem }, 'scheduled backup found damaged data');
      if (result.problems.length > 0) metrics?.backupFailed();
      else metrics?.backupSucceeded(new Date(m.completedAt), seconds, m.database.bytes + m.blobs.copiedBytes);
      await prune();
    } catch (err) {
      if (abort.signal.aborted) return;
      metrics?.backupFailed();
      log.error({ err, dir }, 'scheduled backup failed');
    }
  }

  /** Deletes complete backups past `keep` (oldest first) and unfinished ones left by a crash. */
  async function prune(): Promise<void> {
    const complete = await listBackups(dir);
    for (const name of complete.slice(0, Math.max(0, complete.length - keep))) {
      await rm(join(dir, name), { recursive: true, force: true });
      log.info({ dir: join(dir, name) }, 'old backup deleted');
    }
    for (const name of await readdir(dir)) {
      if (name.startsWith('.squall-') && name.endsWith('.partial') && running === undefined) await rm(join(dir, name), { recursive: true, force: true });
    }
  }

  function runNow(): Promise<void> {
    running ??= run().finally(() => {
      running = undefined;
      schedule(intervalMs);
    });
    return running;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void runNow(), delayMs);
    timer.unref();
  }

  // The first run: when the newest backup is due, else at its age plus the interval.
  void (async () => {
    let age = Infinity;
    const newest = (await listBackups(dir).catch(() => [])).at(-1);
    if (newest) {
      try {
        age = Date.now() - Date.parse((await readManifest(join(dir, newest))).completedAt);
      } catch {
        // an unreadable manifest: back up as if there were none
      }
    }
    schedule(age >= intervalMs ? (deps.firstDelayMs ?? 60_000) : intervalMs - age);
    log.info({ dir, nextInMinutes: Math.round((age >= intervalMs ? (deps.firstDelayMs ?? 60_000) : intervalMs - age) / 60_000) }, 'scheduled backups on');
  })();

  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      abort.abort(new Error('the server is shutting down'));
      await running;
    },
  };
}
