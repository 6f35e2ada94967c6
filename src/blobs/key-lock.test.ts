import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { KeyLock } from './key-lock.ts';

describe('KeyLock', () => {
  it('runs tasks of one key one at a time, in arrival order', async () => {
    const lock = new KeyLock();
    const events: string[] = [];
    const task = (name: string, ms: number) =>
      lock.run('k', async () => {
        events.push(`${name} start`);
        await sleep(ms);
        events.push(`${name} end`);
        return name;
      });
    assert.deepEqual(await Promise.all([task('a', 15), task('b', 1), task('c', 5)]), ['a', 'b', 'c']);
    assert.deepEqual(events, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('lets different keys run at the same time', async () => {
    const lock = new KeyLock();
    let running = 0;
    let most = 0;
    const task = (key: string) =>
      lock.run(key, async () => {
        most = Math.max(most, ++running);
        await sleep(5);
        running--;
      });
    await Promise.all([task('x'), task('y'), task('z')]);
    assert.equal(most, 3);
  });

  it('releases the key after a failure and forgets keys nobody waits on', async () => {
    const lock = new KeyLock();
    await assert.rejects(lock.run('k', async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await lock.run('k', async () => 'after'), 'after');
    assert.equal(lock.size, 0);
  });
});
