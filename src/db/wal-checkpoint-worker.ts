// Runs in a worker thread (see WalCheckpointer): a connection of its own that, on each message,
// copies the WAL's frames into the database with a PASSIVE checkpoint (it takes no lock a writer
// or reader waits for). With synchronous = FULL, SQLite fsyncs the WAL before copying; it fsyncs
// the database only when the copy reached the WAL's end, which a checkpoint racing the writer
// rarely does (until then the WAL keeps every frame, so nothing is at risk). The database is
// fsynced here after each copy anyway: else the event loop's last checkpoint, the one that lets
// the WAL start again, would flush every page the worker copied (10 ms and more on its thread).
import BetterSqlite3 from 'better-sqlite3';
import { fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { file } = workerData as { file: string };
const db = new BetterSqlite3(file, { fileMustExist: true });
const dbFile = openSync(file, 'r');
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');
// The checkpoint reads frames from the WAL and writes pages to the file, around the page cache.
db.pragma('cache_size = -256');

parentPort!.on('message', () => {
  const started = performance.now();
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    fdatasyncSync(dbFile);
    parentPort!.postMessage({ ok: true, seconds: (performance.now() - started) / 1000 });
  } catch (err) {
    parentPort!.postMessage({ ok: false, message: (err as Error).message });
  }
});
