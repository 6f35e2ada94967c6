import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Database } from './database.ts';
import { WalCheckpointer, WalIndexReader } from './wal-checkpointer.ts';

const dir = mkdtempSync(join(tmpdir(), 'squall-checkpointer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const POLICY = { workerFrames: 60, restartFrames: 60, finishBacklog: 8 };

/** Waits, a turn of the event loop at a time, for the worker's answers to arrive. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A WAL database whose frames nothing checkpoints, holding `rows` rows of 4 KB: a wal-index to read. */
function walWithRows(file: string, rows: number): BetterSqlite3.Database {
  const writer = new BetterSqlite3(file);
  writer.pragma('journal_mode = WAL');
  writer.pragma('wal_autocheckpoint = 0');
  writer.exec('CREATE TABLE t (v BLOB)');
  const insert = writer.prepare('INSERT INTO t VALUES (?)');
  for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(4000));
  return writer;
}

describe('WAL checkpoints in a worker', () => {
  it('copies the WAL into the database off the event loop, finishes the last frames here, and the WAL starts again', async () => {
    const file = join(dir, 'background.sqlite');
    const db = new Database(file, { backgroundCheckpoints: POLICY });
    const seen: Array<'worker' | 'event-loop'> = [];
    db.onCheckpoint = (where) => seen.push(where);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    assert.equal(db.handle.pragma('wal_autocheckpoint', { simple: true }), 40_000, "SQLite's own checkpoint is only a backstop");
    const index = new WalIndexReader(`${file}-shm`);
    let rows = 0;
    let restarted = false;
    let most = 0;
    // each transaction writes ~5 frames of new rows: the WAL passes 60 frames every ~12 of them
    // (the worker takes a moment to start, more so when it loads TypeScript: writes go on meanwhile)
    await until(() => {
      db.transactionUnsynced(() => {
        for (let i = 0; i < 3; i++, rows++) insert.run(Buffer.alloc(3000, rows % 251));
      });
      const progress = index.read()!;
      most = Math.max(most, progress.frames);
      // the WAL started again from its beginning: fewer frames than it held before
      restarted = db.checkpoints.finished > 0 && progress.frames < most;
      return restarted;
    }, 'a finished checkpoint and the WAL starting again', 30_000);
    await db.syncWal();
    assert.ok(db.checkpoints.worker >= 1, `the worker checkpointed (${JSON.stringify(db.checkpoints)})`);
    assert.ok(restarted, `the event loop finished a checkpoint and the WAL started again (${JSON.stringify(db.checkpoints)}, at most ${most} frames)`);
    assert.ok(most < 40_000, `the backstop never had to checkpoint (at most ${most} frames)`);
    assert.ok(seen.includes('worker') && seen.includes('event-loop'), 'each checkpoint is reported with where it ran');
    index.close();
    db.close();
    // everything written is there, read back by a connection that never saw the WAL
    const reader = new BetterSqlite3(file, { readonly: true });
    try {
      assert.equal((reader.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, rows);
      assert.equal(reader.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      reader.close();
    }
  });

  it('backs off while a reader holds the WAL, and catches up once it is gone', async () => {
    const file = join(dir, 'held.sqlite');
    const db = new Database(file, { backgroundCheckpoints: POLICY });
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const write = () => db.transactionUnsynced(() => insert.run(Buffer.alloc(3000)));
    const index = new WalIndexReader(`${file}-shm`);
    write();
    const snapshot = db.openSnapshot(); // an export's read transaction: no frame after its start may be copied
    const held = index.read()!.frames;
    await until(() => {
      write();
      return db.checkpoints.worker >= 1;
    }, 'a worker checkpoint');
    const runs = db.checkpoints.worker;
    for (let i = 0; i < 200; i++) {
      write();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stalled = index.read()!;
    assert.ok(stalled.backfilled <= held, `nothing past the reader's snapshot was copied (${stalled.backfilled} of ${stalled.frames}, held at ${held})`);
    assert.ok(db.checkpoints.worker - runs <= 2, `the worker was not asked again and again for nothing (${db.checkpoints.worker - runs} more runs)`);
    snapshot.close();
    let most = 0;
    await until(() => {
      write();
      const now = index.read()!.frames;
      most = Math.max(most, now);
      return db.checkpoints.finished > 0 && now < most;
    }, 'the WAL starting again once the reader is gone', 30_000);
    index.close();
    db.close();
  });

  it('never fails the commit it follows: a checkpoint that throws on the writer hands over to SQLite', () => {
    const file = join(dir, 'throws.sqlite');
    const writer = walWithRows(file, 20);
    writer.pragma('wal_checkpoint(PASSIVE)'); // every frame copied: only the last step is left
    const failures: Error[] = [];
    const checkpointer = new WalCheckpointer(file, { workerFrames: 1_000, restartFrames: 10, finishBacklog: 0 }, {
      finish: () => {
        throw new Error('disk I/O error');
      },
      fallback: (err) => failures.push(err),
    }, 1);
    assert.doesNotThrow(() => checkpointer.committed());
    assert.deepEqual(failures.map((e) => e.message), ['disk I/O error']);
    checkpointer.close();
    writer.close();
  });

  it("hands the checkpoints back to SQLite's automatic ones when the worker fails", async () => {
    // a WAL whose index the checkpointer reads, under a database name the worker cannot open
    const real = join(dir, 'real.sqlite');
    const writer = walWithRows(real, 40);
    const missing = join(dir, 'missing.sqlite');
    symlinkSync(`${real}-shm`, `${missing}-shm`);
    const failures: Error[] = [];
    const checkpointer = new WalCheckpointer(missing, { workerFrames: 10, restartFrames: 1_000, finishBacklog: 0 }, { finish: () => assert.fail('nothing to finish'), fallback: (err) => failures.push(err) }, 1);
    checkpointer.committed();
    await until(() => failures.length > 0, 'the fallback');
    assert.match(failures[0].message, /unable to open|exited|does not exist|SQLITE_CANTOPEN/i);
    checkpointer.committed(); // no second worker, no second report
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(failures.length, 1);
    checkpointer.close();
    writer.close();
  });
});
