import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BufferPool } from './buffer-pool.ts';

describe('BufferPool', () => {
  test('lends buffers of its size and lends a given-back one again', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take();
    assert.equal(a.length, 1024);
    assert.equal(a.byteOffset, 0, 'memory of its own, not a slice of a shared slab');
    assert.equal(a.buffer.byteLength, 1024);
    pool.give(a);
    assert.equal(pool.free, 1);
    assert.equal(pool.take(), a);
    assert.equal(pool.free, 0);
  });

  test('takes back a view of a lent buffer (a short last read) as the buffer itself', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take();
    pool.give(a.subarray(0, 10));
    const again = pool.take();
    assert.equal(again, a);
    assert.equal(again.length, 1024);
  });

  test('ignores a second give and memory it never lent', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take();
    pool.give(a);
    pool.give(a);
    assert.equal(pool.free, 1, 'a buffer given twice would be lent to two readers at once');
    pool.give(Buffer.allocUnsafeSlow(1024));
    pool.give(new Uint8Array(1024));
    assert.equal(pool.free, 1);
    const b = pool.take();
    const c = pool.take();
    assert.notEqual(b, c);
  });

  test('keeps at most maxFree buffers; the rest are left to the collector', () => {
    const pool = new BufferPool(256, 2);
    const lent = Array.from({ length: 5 }, () => pool.take());
    for (const buffer of lent) pool.give(buffer);
    assert.equal(pool.free, 2);
  });

  test('refuses sizes that are not positive integers', () => {
    assert.throws(() => new BufferPool(0, 1), RangeError);
    assert.throws(() => new BufferPool(1.5, 1), RangeError);
    assert.throws(() => new BufferPool(64, -1), RangeError);
  });
});
