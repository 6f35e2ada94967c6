import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PENDING_SIGN_IN_MAX_WRONG_CODES, PENDING_SIGN_IN_TTL_MS, PendingSignIns } from './pending-sign-ins.ts';

const ANN = { did: 'did:plc:ann', stamp: 'stamp-1', remember: true };

describe('pending sign-ins (a checked password waiting for its emailed code)', () => {
  it('finds a pending sign-in only for the device and purpose that started it', () => {
    const pending = new PendingSignIns();
    const id = pending.start('dev-1', 'req-1', ANN);
    const found = pending.find(id, 'dev-1', 'req-1');
    assert.deepEqual([found?.did, found?.stamp, found?.remember], [ANN.did, ANN.stamp, ANN.remember]);
    assert.equal(pending.find(id, 'dev-2', 'req-1'), undefined, 'another browser');
    assert.equal(pending.find(id, 'dev-1', 'req-2'), undefined, 'another authorization request');
    assert.equal(pending.find('not-an-id', 'dev-1', 'req-1'), undefined);
    assert.equal(pending.find(undefined, 'dev-1', 'req-1'), undefined);
  });

  it('expires after its lifetime and works once', () => {
    let now = 1_000_000;
    const pending = new PendingSignIns(() => now);
    const id = pending.start('dev-1', 'req-1', ANN);
    now += PENDING_SIGN_IN_TTL_MS - 1;
    assert.notEqual(pending.find(id, 'dev-1', 'req-1'), undefined);
    pending.forget(id);
    assert.equal(pending.find(id, 'dev-1', 'req-1'), undefined, 'single use');
    const late = pending.start('dev-1', 'req-1', ANN);
    now += PENDING_SIGN_IN_TTL_MS;
    assert.equal(pending.find(late, 'dev-1', 'req-1'), undefined, 'expired');
  });

  it('is dropped after the last allowed wrong code', () => {
    const pending = new PendingSignIns();
    const id = pending.start('dev-1', 'req-1', ANN);
    for (let i = 1; i < PENDING_SIGN_IN_MAX_WRONG_CODES; i++) assert.equal(pending.wrongCode(id), true);
    assert.equal(pending.wrongCode(id), false);
    assert.equal(pending.find(id, 'dev-1', 'req-1'), undefined);
  });

  it('stays bounded: expired entries are swept, and when full the oldest is forgotten', () => {
    let now = 0;
    const pending = new PendingSignIns(() => now, 3);
    const ids = [1, 2, 3].map((n) => pending.start(`dev-${n}`, 'req', ANN));
    const fourth = pending.start('dev-4', 'req', ANN);
    assert.equal(pending.size, 3);
    assert.equal(pending.find(ids[0], 'dev-1', 'req'), undefined, 'the oldest went');
    assert.notEqual(pending.find(fourth, 'dev-4', 'req'), undefined);
    now += PENDING_SIGN_IN_TTL_MS;
    pending.start('dev-5', 'req', ANN);
    assert.equal(pending.size, 1, 'the expired ones were swept');
  });
});
