import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../db/index.ts';
import { openMigratedDatabase, type MigratedDatabase } from '../../test/helpers/migrated-database.ts';
import { AccountStore } from './account-store.ts';

let store: MigratedDatabase;
let db: Database;
let accounts: AccountStore;
let serial = 0;

function addAccount(): string {
  const did = `did:plc:state${String(++serial).padStart(19, '0')}`;
  accounts.insert({ did, handle: `s${serial}.test`, email: null, passwordHash: 'x', signingKey: 'ES256K:00', signingKeyDid: 'did:key:z', createdAt: new Date().toISOString() });
  return did;
}

before(() => {
  store = openMigratedDatabase();
  db = store.db;
  accounts = new AccountStore(db);
});
after(() => store.close());

describe('account state reads (kept in memory between reads)', () => {
  it('follows every change of state made through the store', () => {
    const did = addAccount();
    assert.equal(accounts.stateByDid(did), 'active');
    accounts.setTakedown(did, 'ref-1');
    assert.equal(accounts.stateByDid(did), 'takendown');
    assert.equal(accounts.refByDid(did)?.takedownRef, 'ref-1');
    accounts.setTakedown(did, null);
    assert.equal(accounts.stateByDid(did), 'active');
    accounts.setDeactivated(did, new Date().toISOString());
    assert.equal(accounts.stateByDid(did), 'deactivated');
    accounts.setDeactivated(did, null);
    assert.equal(accounts.stateByDid(did), 'active');
    accounts.delete(did);
    assert.equal(accounts.stateByDid(did), undefined);
    accounts.insert({ did, handle: 'again.test', email: null, passwordHash: 'x', signingKey: 'ES256K:00', signingKeyDid: 'did:key:z', createdAt: new Date().toISOString(), arriving: true });
    assert.equal(accounts.stateByDid(did), 'arriving');
    accounts.activate(did);
    assert.equal(accounts.stateByDid(did), 'active');
  });

  it('never keeps a state that a rolled-back transaction wrote', () => {
    const did = addAccount();
    assert.equal(accounts.stateByDid(did), 'active');
    assert.throws(() =>
      db.transaction(() => {
        accounts.setTakedown(did, 'ref-2');
        // read inside the transaction: the change shows, but is not kept
        assert.equal(accounts.stateByDid(did), 'takendown');
        throw new Error('roll back');
      }),
    );
    assert.equal(accounts.stateByDid(did), 'active');
    assert.equal(db.prepare('SELECT takedown_ref FROM account WHERE did = ?').pluck().get(did), null);
  });

  it('answers from the database again once an account has been pushed out by others', () => {
    const first = addAccount();
    assert.equal(accounts.stateByDid(first), 'active');
    // more accounts read than the cache holds: `first` is dropped, and its next change still shows
    db.transaction(() => {
      for (let i = 0; i < 4200; i++) addAccount();
    });
    for (let i = serial - 4199; i <= serial; i++) assert.equal(accounts.stateByDid(`did:plc:state${String(i).padStart(19, '0')}`), 'active');
    db.prepare('UPDATE account SET takedown_ref = ? WHERE did = ?').run('behind-the-store', first);
    assert.equal(accounts.stateByDid(first), 'takendown', 'an evicted entry is read again, not served stale');
  });

  it('hands out states that callers cannot change', () => {
    const did = addAccount();
    const ref = accounts.refByDid(did)!;
    assert.throws(() => {
      (ref as { takedownRef: string | null }).takedownRef = 'tampered';
    }, TypeError);
    assert.equal(accounts.refByDid(did)?.takedownRef, null);
  });
});
