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

  it('splits a long queue into bounded groups', async () => {
    const db = openDb('c.sqlite');
    const committer = new GroupCommitter(db, 10);
    await Promise.all(Array.from({ length: 35 }, (_, i) => committer.run(() => db.prepare('INSERT INTO t (k, v) VALUES (?, ?)').run(`k${i}`, i))));
    assert.equal(committer.stats.transactions, 4);
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
