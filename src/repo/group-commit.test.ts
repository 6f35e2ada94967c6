import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Database } from '../db/index.ts';
import { GroupCommitter } from './group-commit.ts';
import { RepoLocks } from './repo-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'squall-gc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openDb(name: string) {
  const db = new Database(join(dir, name));
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  return db;
}

describe('group commit', () => {
  it('applies writes queued in the same tick in one transaction', async () => {
    const db = openDb('a.sqlite');
    const committer = new GroupCommitter(db);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => committer.run(() => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(`k${i}`, i).changes)),
    );
    assert.deepEqual(results, Array(50).fill(1));
    assert.equal(committer.stats.transactions, 1);
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 50);
    db.close();
  });

  it('rolls back only the write that failed and commits the others', async () => {
    const db = openDb('b.sqlite');
    const committer = new GroupCommitter(db);
    const insert = (k: string) => () => db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run(k);
    const outcomes = await Promise.allSettled([
      committer.run(insert('x')),
      committer.run(() => {
        db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run('half-done');
        throw new Error('boom');
      }),
      committer.run(insert('y')),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    const keys = (db.prepare('SELECT k FROM t ORDER BY k').all() as Array<{ k: string }>).map((r) => r.k);
    assert.deepEqual(keys, ['x', 'y']);
    db.close();
  });

  it('applies a group of rerunnable writes without savepoints, and once each while none fails', async () => {
    const db = openCounting('rerun-e.sqlite');
    const committer = new GroupCommitter(db);
    const calls = new Map<string, number>();
    const insert = (k: string) => () => {
      calls.set(k, (calls.get(k) ?? 0) + 1);
      return db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run(k).changes;
    };
    const results = await Promise.all(['a', 'b', 'c'].map((k) => committer.run(insert(k), undefined, { rerunnable: true })));
    assert.deepEqual(results, [1, 1, 1]);
    assert.deepEqual([...calls.values()], [1, 1, 1]);
    assert.equal(db.savepoints, 0);
    assert.deepEqual(committer.stats, { transactions: 1, writes: 3, reruns: 0 });
    db.close();
  });

  it('applies a group of rerunnable writes again under savepoints when one fails: only that one is rolled back', async () => {
    const db = openCounting('rerun-f.sqlite');
    const committer = new GroupCommitter(db);
    const calls: string[] = [];
    const settled: boolean[] = [];
    const insert = (k: string) => () => {
      calls.push(k);
      db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run(k);
      if (k === 'bad') throw new Error('boom');
      return k;
    };
    const outcomes = await Promise.allSettled(
      ['x', 'bad', 'y'].map((k, i) => committer.run(insert(k), (committed) => (settled[i] = committed), { rerunnable: true })),
    );
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal(((outcomes[1] as PromiseRejectedResult).reason as Error).message, 'boom');
    assert.deepEqual(settled, [true, false, true]);
    // first pass stops at the failing write; the second pass applies all three, each under its savepoint
    assert.deepEqual(calls, ['x', 'bad', 'x', 'bad', 'y']);
    assert.equal(db.savepoints, 3);
    const keys = (db.prepare('SELECT k FROM t ORDER BY k').all() as Array<{ k: string }>).map((r) => r.k);
    assert.deepEqual(keys, ['x', 'y']);
    assert.deepEqual(committer.stats, { transactions: 1, writes: 3, reruns: 1 });
    db.close();
  });

  it('rejects a lone rerunnable write that fails without applying it again', async () => {
    const db = openCounting('rerun-g.sqlite');
    const committer = new GroupCommitter(db);
    let calls = 0;
    const outcome = committer.run(
      () => {
        calls++;
        db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run('half-done');
        throw new Error('boom');
      },
      undefined,
      { rerunnable: true },
    );
    await assert.rejects(outcome, /boom/);
    assert.equal(calls, 1);
    assert.equal(db.savepoints, 0);
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 0);
    db.close();
  });

  it('keeps a savepoint per write in a group where any write is not rerunnable', async () => {
    const db = openCounting('rerun-h.sqlite');
    const committer = new GroupCommitter(db);
    let calls = 0;
    const insert = (k: string) => () => {
      calls++;
      return db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run(k).changes;
    };
    await Promise.all([committer.run(insert('a'), undefined, { rerunnable: true }), committer.run(insert('b'))]);
    assert.equal(calls, 2);
    assert.equal(db.savepoints, 2);
    db.close();
  });

  it('splits a long queue into bounded groups', async () => {
    const db = openDb('c.sqlite');
    const committer = new GroupCommitter(db, 10);
    await Promise.all(Array.from({ length: 35 }, (_, i) => committer.run(() => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(`k${i}`, i))));
    assert.equal(committer.stats.transactions, 4);
    db.close();
  });
});

/** The real database, counting the savepoints the group committer opens. */
class CountingSavepointsDatabase extends Database {
  savepoints = 0;
  override savepoint<T>(fn: () => T): T {
    this.savepoints++;
    return super.savepoint(fn);
  }
}

function openCounting(name: string): CountingSavepointsDatabase {
  const db = new CountingSavepointsDatabase(join(dir, name));
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  return db;
}

/** The real database, with each WAL fsync held until the test opens the gate. */
class GatedFsyncDatabase extends Database {
  gates: Array<() => void> = [];
  override syncWal(): Promise<void> {
    return new Promise<void>((resolve) => this.gates.push(resolve)).then(() => super.syncWal());
  }
}

describe('group commit while an fsync is in flight', () => {
  it('gathers the writes that arrive during the fsync into one next group, acknowledged only after their own fsync', async () => {
    const db = new GatedFsyncDatabase(join(dir, 'd.sqlite'));
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    const committer = new GroupCommitter(db);
    const insert = (k: string) => () => db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run(k).changes;
    const first = committer.run(insert('first'));
    while (db.gates.length === 0) await new Promise((r) => setImmediate(r));
    // The first group is committed and its fsync is held: ten writes arrive over ten turns of the loop.
    const later: Array<Promise<number>> = [];
    const settled: string[] = [];
    for (let i = 0; i < 10; i++) {
      later.push(committer.run(insert(`later${i}`)).then((v) => (settled.push(`later${i}`), v)));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(committer.stats.transactions, 1, 'nothing more commits while the fsync runs');
    db.gates.shift()!();
    assert.equal(await first, 1);
    while (db.gates.length === 0) await new Promise((r) => setImmediate(r));
    assert.equal(committer.stats.transactions, 2, 'the ten writes form one group');
    assert.deepEqual(settled, [], 'and wait for their own fsync');
    db.gates.shift()!();
    assert.deepEqual(await Promise.all(later), Array(10).fill(1));
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 11);
    db.close();
  });

  it('tells who waits in idle() when the fsync has ended, in time to join the group that starts then', async () => {
    const db = new GatedFsyncDatabase(join(dir, 'f.sqlite'));
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    const committer = new GroupCommitter(db);
    const insert = (k: string) => () => db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run(k).changes;
    assert.equal(committer.syncing, false);
    await committer.idle(); // nothing running: at once
    const first = committer.run(insert('first'));
    while (db.gates.length === 0) await new Promise((r) => setImmediate(r));
    assert.equal(committer.syncing, true);
    const queuedMeanwhile = committer.run(insert('queued'));
    assert.equal(committer.queued, 1);
    let fromIdle: Promise<number> | undefined;
    const waited = committer.idle().then(() => {
      assert.equal(committer.syncing, false);
      fromIdle = committer.run(insert('from idle'));
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(fromIdle, undefined, 'idle() waits for the fsync');
    db.gates.shift()!();
    await first;
    await waited;
    while (db.gates.length === 0) await new Promise((r) => setImmediate(r));
    assert.equal(committer.stats.transactions, 2, 'the write queued from idle() joined the group of the one queued during the fsync');
    assert.equal(committer.stats.writes, 3);
    db.gates.shift()!();
    assert.deepEqual(await Promise.all([queuedMeanwhile, fromIdle!]), [1, 1]);
    db.close();
  });

  it('still commits the next group after a group whose COMMIT failed', async () => {
    const db = openDb('e.sqlite');
    const committer = new GroupCommitter(db, 1);
    db.exec('CREATE TABLE u (k TEXT PRIMARY KEY) ');
    // A deferred foreign key makes the COMMIT itself fail, not the write's savepoint.
    db.exec('PRAGMA foreign_keys = ON');
    db.exec('CREATE TABLE child (p TEXT REFERENCES u(k) DEFERRABLE INITIALLY DEFERRED)');
    const outcomes = await Promise.allSettled([
      committer.run(() => db.prepare('INSERT INTO child (p) VALUES (?)').run('missing')),
      committer.run(() => db.prepare('INSERT INTO t (k, v) VALUES (?, 1)').run('ok').changes),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'fulfilled']);
    assert.equal((db.prepare('SELECT count(*) AS n FROM child').get() as { n: number }).n, 0);
    db.close();
  });
});

describe('repo locks', () => {
  it('serialises work on one repo and lets other repos run concurrently', async () => {
    const locks = new RepoLocks();
    const log: string[] = [];
    const step = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
    };
    await Promise.all([locks.run('a', step('a1', 20)), locks.run('a', step('a2', 1)), locks.run('b', step('b1', 5))]);
    assert.ok(log.indexOf('end a1') < log.indexOf('start a2'), 'a2 waits for a1');
    assert.ok(log.indexOf('start b1') < log.indexOf('end a1'), 'b1 does not wait for a1');
  });

  it('releases the lock when the work throws', async () => {
    const locks = new RepoLocks();
    await assert.rejects(locks.run('a', async () => Promise.reject(new Error('x'))));
    assert.equal(await locks.run('a', async () => 42), 42);
  });
});
