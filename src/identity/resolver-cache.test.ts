import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ResolverCache } from './resolver-cache.ts';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function counter<V>(values: V[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    load: async () => values[Math.min(calls++, values.length - 1)],
  };
}

describe('ResolverCache', () => {
  test('serves a fresh value without loading again', async () => {
    const time = clock();
    const cache = new ResolverCache<string>({ freshMs: 1000, maxAgeMs: 5000, now: time.now });
    const src = counter(['a', 'b']);
    assert.equal(await cache.get('k', src.load), 'a');
    time.advance(999);
    assert.equal(await cache.get('k', src.load), 'a');
    assert.equal(src.calls, 1);
  });

  test('serves a stale value at once and refreshes it in the background', async () => {
    const time = clock();
    const cache = new ResolverCache<string>({ freshMs: 1000, maxAgeMs: 5000, now: time.now });
    const src = counter(['a', 'b']);
    await cache.get('k', src.load);
    time.advance(1500);
    assert.equal(await cache.get('k', src.load), 'a');
    await tick();
    assert.equal(src.calls, 2);
    assert.equal(cache.peek('k'), 'b');
    assert.equal(await cache.get('k', src.load), 'b');
  });

  test('keeps the stale value when the background refresh fails, and reports the failure', async () => {
    const time = clock();
    const failures: unknown[] = [];
    const cache = new ResolverCache<string>({ freshMs: 1000, maxAgeMs: 5000, now: time.now, onBackgroundError: (_k, err) => failures.push(err) });
    await cache.get('k', async () => 'a');
    time.advance(2000);
    assert.equal(await cache.get('k', async () => Promise.reject(new Error('down'))), 'a');
    await tick();
    assert.equal(failures.length, 1);
    assert.equal(cache.peek('k'), 'a');
  });

  test('drops the value when a failure says it is gone for good', async () => {
    const time = clock();
    class Gone extends Error {}
    const cache = new ResolverCache<string>({ freshMs: 1000, maxAgeMs: 5000, now: time.now, evictOn: (err) => err instanceof Gone });
    await cache.get('k', async () => 'a');
    await assert.rejects(cache.get('k', async () => Promise.reject(new Gone()), { forceRefresh: true }), Gone);
    assert.equal(cache.peek('k'), undefined);
  });

  test('waits for a new value once the maximum age has passed', async () => {
    const time = clock();
    const cache = new ResolverCache<string>({ freshMs: 1000, maxAgeMs: 5000, now: time.now });
    const src = counter(['a', 'b']);
    await cache.get('k', src.load);
    time.advance(5000);
    assert.equal(await cache.get('k', src.load), 'b');
  });

  test('shares one load between concurrent callers', async () => {
    const cache = new ResolverCache<number>();
    let calls = 0;
    const load = async () => {
      calls++;
      await tick();
      return 42;
    };
    const results = await Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load, { forceRefresh: true })]);
    assert.deepEqual(results, [42, 42, 42]);
    assert.equal(calls, 1);
  });

  test('bypasses the cache on a forced refresh, but not within the minimum interval', async () => {
    const time = clock();
    const cache = new ResolverCache<string>({ minRefreshIntervalMs: 1000, now: time.now });
    const src = counter(['a', 'b', 'c']);
    await cache.get('k', src.load);
    assert.equal(await cache.get('k', src.load, { forceRefresh: true }), 'a');
    time.advance(1000);
    assert.equal(await cache.get('k', src.load, { forceRefresh: true }), 'b');
    assert.equal(src.calls, 2);
  });

  test('does not cache failures unless asked to', async () => {
    const cache = new ResolverCache<string>();
    await assert.rejects(cache.get('k', async () => Promise.reject(new Error('no'))));
    assert.equal(await cache.get('k', async () => 'ok'), 'ok');
  });

  test('answers a recent failure from memory until its time is up, then loads again', async () => {
    const time = clock();
    const cache = new ResolverCache<string>({ failureTtlMs: 5000, now: time.now });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error(`down ${calls}`);
    };
    await assert.rejects(cache.get('k', failing), /down 1/);
    time.advance(4999);
    await assert.rejects(cache.get('k', failing), /down 1/);
    assert.equal(calls, 1);
    time.advance(1);
    assert.equal(await cache.get('k', async () => 'back'), 'back');
    await assert.rejects(cache.get('other', failing), /down 2/);
  });

  test('caches only the failures it is told to, and lets a forced refresh retry after the minimum interval', async () => {
    const time = clock();
    class Gone extends Error {}
    const cache = new ResolverCache<string>({ failureTtlMs: 5000, minRefreshIntervalMs: 1000, cacheFailure: (err) => err instanceof Gone, now: time.now });
    await assert.rejects(cache.get('transient', async () => Promise.reject(new Error('blip'))));
    assert.equal(await cache.get('transient', async () => 'ok'), 'ok');
    await assert.rejects(cache.get('gone', async () => Promise.reject(new Gone())), Gone);
    await assert.rejects(cache.get('gone', async () => 'unused', { forceRefresh: true }), Gone);
    time.advance(1000);
    assert.equal(await cache.get('gone', async () => 'found', { forceRefresh: true }), 'found');
  });

  test('forgets a failure when the key is set or deleted, and keeps at most maxEntries failures', async () => {
    const cache = new ResolverCache<string>({ failureTtlMs: 60_000, maxEntries: 2 });
    const fail = async (): Promise<string> => Promise.reject(new Error('no'));
    await assert.rejects(cache.get('a', fail));
    cache.set('a', 'A');
    assert.equal(await cache.get('a', fail), 'A');
    await assert.rejects(cache.get('b', fail));
    cache.delete('b');
    assert.equal(await cache.get('b', async () => 'B'), 'B');
    for (const key of ['x', 'y', 'z']) await assert.rejects(cache.get(key, fail));
    assert.equal(await cache.get('x', async () => 'X'), 'X', 'the oldest failure was dropped past the bound');
    await assert.rejects(cache.get('z', async () => 'unused'), /no/);
  });

  test('evicts the least recently used entry past the maximum size', async () => {
    const cache = new ResolverCache<string>({ maxEntries: 2 });
    await cache.get('a', async () => 'A');
    await cache.get('b', async () => 'B');
    await cache.get('a', async () => 'unused');
    await cache.get('c', async () => 'C');
    assert.equal(cache.size, 2);
    assert.equal(cache.peek('a'), 'A');
    assert.equal(cache.peek('b'), undefined);
    assert.equal(cache.peek('c'), 'C');
  });
});
