// One server per database. Two servers on one database would both accept writes: each keeps
// its repos' heads, its sequencer position and its firehose in memory, so their commits and
// events would interleave under each other's feet. A server therefore holds an exclusive lock
// on a file beside its database for as long as it runs, and a second one refuses to start.
//
// The lock is SQLite's own (an empty SQLite file held in an EXCLUSIVE transaction): an OS lock
// the kernel drops when the process ends, however it ends (kill -9, a crash), so a stale lock
// never blocks a restart, and SQLite also refuses a second holder inside the same process.
import BetterSqlite3 from 'better-sqlite3';
import { createPrivateFile } from '../data-directory.ts';

/** Another server (or another start in this process), or a data tool (verify, restore), holds the database's lock. */
export class DatabaseInUseError extends Error {}

export interface ServerLock {
  readonly file: string;
  release(): void;
}

/** The lock file of a database: its name with `.lock` added, in the same directory. */
export function lockFileOf(dbFile: string): string {
  return `${dbFile}.lock`;
}

/** Takes the database's lock, or throws DatabaseInUseError at once (no waiting). */
export function lockDatabase(dbFile: string): ServerLock {
  const file = lockFileOf(dbFile);
  createPrivateFile(file);
  const handle = new BetterSqlite3(file);
  try {
    handle.pragma('busy_timeout = 0');
    handle.pragma('locking_mode = EXCLUSIVE');
    // Held until release: nothing is written, so the file stays empty.
    handle.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    handle.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DatabaseInUseError(`another Squall server is running on ${dbFile}, or an admin tool (verify, restore) is working on it (${file} is locked): stop it before starting this one`);
    }
    throw err;
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      handle.close();
    },
  };
}
