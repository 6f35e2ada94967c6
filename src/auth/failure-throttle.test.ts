import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailureThrottle } from './failure-throttle.ts';

describe('FailureThrottle', () => {
  it('lets a client fail maxFailures times, then makes it wait for the end of its window', () => {
    let now = 1_000;
    const throttle = new FailureThrottle({ maxFailures: 3, windowMs: 60_000, maxClients: 10, now: () => now });
    for (let i = 0; i < 3; i++) {
      assert.equal(throttle.retryAfterMs('a'), 0);
      throttle.recordFailure('a');
    }
    assert.equal(throttle.retryAfterMs('a'), 60_000);
    assert.equal(throttle.retryAfterMs('b'), 0);
    now += 59_000;
    assert.equal(throttle.retryAfterMs('a'), 1_000);
    now += 1_000;
    assert.equal(throttle.retryAfterMs('a'), 0);
  });

  it('never holds more than maxClients entries: once full, new clients share one entry and nobody is evicted', () => {
    let now = 0;
    const throttle = new FailureThrottle({ maxFailures: 2, windowMs: 60_000, maxClients: 4, now: () => now });
    throttle.recordFailure('victim-of-nothing');
    throttle.recordFailure('victim-of-nothing');
    for (let i = 0; i < 1000; i++) throttle.recordFailure(`filler-${i}`);
    assert.equal(throttle.size, 4);
    assert.ok(throttle.retryAfterMs('victim-of-nothing') > 0, 'the first client is still counted');
    assert.ok(throttle.retryAfterMs('someone-new') > 0, 'new clients share the spent overflow entry');
    now += 60_000;
    throttle.recordFailure('after-the-window');
    assert.equal(throttle.retryAfterMs('after-the-window'), 0, 'expired entries make room again');
  });

  it('stores a long client key as a fixed-size digest', () => {
    const throttle = new FailureThrottle({ maxFailures: 1, windowMs: 1000, maxClients: 10 });
    const long = 'x'.repeat(16 * 1024);
    throttle.recordFailure(long);
    assert.ok(throttle.retryAfterMs(long) > 0);
    assert.equal(throttle.retryAfterMs('x'.repeat(16 * 1024 - 1)), 0);
  });
});
