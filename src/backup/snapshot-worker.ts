// Runs in a worker thread: one VACUUM INTO on a read-only connection of its own. The statement
// reads the whole database inside one read transaction (a consistent snapshot that does not
// block the server's writers in WAL mode) and takes as long as the database is large, so it
// runs here rather than on an event loop that serves requests or draws a progress line.
import BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { source, target } = workerData as { source: string; target: string };
try {
  const db = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  parentPort!.postMessage({ ok: true });
} catch (err) {
  parentPort!.postMessage({ ok: false, message: (err as Error).message });
}
