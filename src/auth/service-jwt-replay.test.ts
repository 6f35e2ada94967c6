import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceJwtReplayGuard } from './service-jwt-replay.ts';

describe('the service-token replay guard', () => {
  const start = 1_700_000_000_000;

  test('remembers each nonce per issuer until its token expires', () => {
    let now = start;
    const guard = new ServiceJwtReplayGuard({ now: () => now });
    const exp = start / 1000 + 60;
    assert.equal(guard.checkAndRemember('did:plc:a', 'n1', exp), 'fresh');
    assert.equal(guard.checkAndRemember('did:plc:a', 'n1', exp), 'replayed');
    assert.equal(guard.checkAndRemember('did:plc:b', 'n1', exp), 'fresh', 'another issuer’s nonce is another nonce');
    now += 50_000;
    assert.equal(guard.checkAndRemember('did:plc:a', 'n1', exp), 'replayed', 'still live');
    now += 30_000;
    assert.equal(guard.checkAndRemember('did:plc:c', 'n2', now / 1000 + 60), 'fresh');
    assert.equal(guard.size, 1, 'the expired entries are gone');
  });

  test('when the table is full it refuses everyone new and keeps every live entry', () => {
    let now = start;
    const guard = new ServiceJwtReplayGuard({ maxEntries: 100, maxPerIssuer: 10, now: () => now });
    const exp = start / 1000 + 3600;
    for (let i = 0; i < 100; i++) assert.equal(guard.checkAndRemember(`did:plc:attacker${Math.floor(i / 10)}`, `n${i}`, exp), 'fresh');
    assert.equal(guard.checkAndRemember('did:plc:victim', 'v1', start / 1000 + 60), 'full');
    for (let i = 0; i < 100; i++) assert.equal(guard.checkAndRemember(`did:plc:attacker${Math.floor(i / 10)}`, `n${i}`, exp), 'replayed');
    now += 3_700_000;
    assert.equal(guard.checkAndRemember('did:plc:victim', 'v1', now / 1000 + 60), 'fresh');
    assert.equal(guard.size, 1);
  });

  test('holds one issuer to its share', () => {
    const guard = new ServiceJwtReplayGuard({ maxEntries: 100, maxPerIssuer: 3, now: () => start });
    const exp = start / 1000 + 60;
    for (const nonce of ['a', 'b', 'c']) assert.equal(guard.checkAndRemember('did:plc:busy', nonce, exp), 'fresh');
    assert.equal(guard.checkAndRemember('did:plc:busy', 'd', exp), 'issuer-full');
    assert.equal(guard.checkAndRemember('did:plc:busy', 'a', exp), 'replayed', 'a replay is still called a replay');
    assert.equal(guard.checkAndRemember('did:plc:quiet', 'a', exp), 'fresh');
  });

  test('an entry recorded with an already-swept expiry is still swept later', () => {
    let now = start;
    const guard = new ServiceJwtReplayGuard({ now: () => now });
    guard.checkAndRemember('did:plc:a', 'x', start / 1000 + 60);
    now += 600_000;
    guard.checkAndRemember('did:plc:a', 'late', start / 1000);
    now += 60_000;
    guard.checkAndRemember('did:plc:a', 'y', now / 1000 + 60);
    assert.equal(guard.size, 1);
  });
});
