import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidRequestError, RateLimitExceededError } from './errors.ts';
import { enforceRateLimits, MemoryRateLimiter, RATE_LIMIT_MAX_KEY_CHARS } from './rate-limit.ts';
import type { RateLimitSpec } from './types.ts';

const MINUTE = 60_000;

describe('MemoryRateLimiter', () => {
  test('holds at most maxKeys windows however many clients come', () => {
    const limiter = new MemoryRateLimiter({ maxKeys: 100, now: () => 1_000 });
    for (let i = 0; i < 1_000; i++) assert.equal(limiter.consume('login', `client-${i}`, 10, MINUTE).allowed, true);
    assert.ok(limiter.size <= 100, `${limiter.size} windows kept`);
  });

  test('costs one fixed-size entry for a key of any length', () => {
    const limiter = new MemoryRateLimiter({ now: () => 1_000 });
    const long = 'x'.repeat(RATE_LIMIT_MAX_KEY_CHARS);
    limiter.consume('login', long, 2, MINUTE);
    limiter.consume('login', long, 2, MINUTE);
    assert.equal(limiter.consume('login', long, 2, MINUTE).allowed, false, 'the long key is counted as one client');
    assert.equal(limiter.consume('login', `${long.slice(1)}y`, 2, MINUTE).allowed, true, 'a different key of the same length is another client');
    assert.equal(limiter.size, 2);
  });

  test('keeps buckets apart even when bucket and key run together', () => {
    const limiter = new MemoryRateLimiter({ now: () => 1_000 });
    assert.equal(limiter.consume('ab', 'c', 1, MINUTE).allowed, true);
    assert.equal(limiter.consume('a', 'bc', 1, MINUTE).allowed, true);
  });

  test('a flood of new clients does not reset a limit someone has nearly spent', () => {
    const limiter = new MemoryRateLimiter({ maxKeys: 100, now: () => 1_000 });
    for (let i = 0; i < 10; i++) limiter.consume('login', 'victim', 10, MINUTE);
    assert.equal(limiter.consume('login', 'victim', 10, MINUTE).allowed, false);
    // Each new key costs the attacker one request; they fill the table many times over.
    for (let i = 0; i < 1_000; i++) limiter.consume('login', `attacker-${i}`, 10, MINUTE);
    assert.equal(limiter.consume('login', 'victim', 10, MINUTE).allowed, false, 'the spent window survived');
  });

  test('forgets expired windows before live ones', () => {
    let now = 1_000;
    const limiter = new MemoryRateLimiter({ maxKeys: 10, now: () => now });
    for (let i = 0; i < 5; i++) limiter.consume('login', `old-${i}`, 1, MINUTE);
    now += 2 * MINUTE;
    limiter.consume('login', 'live', 1, 10 * MINUTE);
    for (let i = 0; i < 5; i++) limiter.consume('login', `new-${i}`, 1, 10 * MINUTE);
    assert.equal(limiter.consume('login', 'live', 1, 10 * MINUTE).allowed, false, 'the live window is still counted');
    assert.ok(limiter.size <= 10);
  });
});

describe('enforceRateLimits', () => {
  const spec = { name: 'login', points: 5, windowMs: MINUTE } as RateLimitSpec;

  test('refuses a key longer than the identifier limit as a bad request, without counting it', () => {
    const limiter = new MemoryRateLimiter({ now: () => 1_000 });
    assert.throws(
      () => enforceRateLimits(limiter, [spec], () => 'x'.repeat(RATE_LIMIT_MAX_KEY_CHARS + 1), () => {}),
      (err: unknown) => err instanceof InvalidRequestError && /too long/.test(err.message),
    );
    assert.equal(limiter.size, 0);
  });

  test('answers 429 once a limit is spent', () => {
    const limiter = new MemoryRateLimiter({ now: () => 1_000 });
    for (let i = 0; i < 5; i++) enforceRateLimits(limiter, [spec], () => '203.0.113.7', () => {});
    assert.throws(() => enforceRateLimits(limiter, [spec], () => '203.0.113.7', () => {}), RateLimitExceededError);
  });
});
