import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../db/index.ts';
import { openMigratedDatabase, type MigratedDatabase } from '../../test/helpers/migrated-database.ts';
import { AccountStore } from './account-store.ts';
import { AccountError } from './errors.ts';
import { Invites, MAX_CODES_PER_CALL } from './invites.ts';

let store: MigratedDatabase;
let db: Database;
let invites: Invites;
let accounts: AccountStore;

function addAccount(did: string, handle: string): void {
  accounts.insert({ did, handle, email: null, passwordHash: 'x', signingKey: 'ES256K:00', signingKeyDid: 'did:key:z', createdAt: new Date().toISOString() });
}

const invalid = (err: unknown) => err instanceof AccountError && err.code === 'InvalidInput';

before(() => {
  store = openMigratedDatabase();
  db = store.db;
  invites = new Invites(db, 'pds.example.com');
  accounts = new AccountStore(db);
});
after(() => store.close());

describe('invite codes', () => {
  it('makes codes named after the host, for each account asked', () => {
    const made = invites.create({ forAccounts: ['admin', 'did:plc:someoneaaaaaaaaaaaaaaaaa'], useCount: 2, codeCount: 3, createdBy: 'admin' });
    assert.deepEqual(made.map((m) => m.account), ['admin', 'did:plc:someoneaaaaaaaaaaaaaaaaa']);
    for (const { codes } of made) {
      assert.equal(codes.length, 3);
      for (const code of codes) assert.match(code, /^pds-example-com-[a-z2-7]{5}-[a-z2-7]{5}$/);
    }
    assert.equal(invites.forAccount('did:plc:someoneaaaaaaaaaaaaaaaaa').length, 3);
  });

  it('refuses nonsense counts and more than the per-call maximum', () => {
    const base = { forAccounts: ['admin'], useCount: 1, codeCount: 1, createdBy: 'admin' };
    assert.throws(() => invites.create({ ...base, useCount: 0 }), invalid);
    assert.throws(() => invites.create({ ...base, codeCount: 0 }), invalid);
    assert.throws(() => invites.create({ ...base, useCount: 1.5 }), invalid);
    assert.throws(() => invites.create({ ...base, forAccounts: [] }), invalid);
    assert.throws(() => invites.create({ ...base, codeCount: MAX_CODES_PER_CALL + 1 }), invalid);
    assert.throws(() => invites.create({ ...base, forAccounts: ['a', 'b'], codeCount: MAX_CODES_PER_CALL / 2 + 1 }), invalid);
  });

  it('makes codes of an account barred from invites disabled', () => {
    addAccount('did:plc:barredaaaaaaaaaaaaaaaaaa', 'barred.test');
    accounts.setInvitesDisabled('did:plc:barredaaaaaaaaaaaaaaaaaa', true);
    const [{ codes }] = invites.create({ forAccounts: ['did:plc:barredaaaaaaaaaaaaaaaaaa'], useCount: 1, codeCount: 1, createdBy: 'admin' });
    assert.equal(invites.get(codes[0])?.disabled, true);
    assert.throws(() => invites.ensureAvailable(codes[0]), (err) => err instanceof AccountError && err.code === 'InvalidInviteCode');
  });

  it('tells which code an account signed up with', () => {
    const [{ codes }] = invites.create({ forAccounts: ['admin'], useCount: 1, codeCount: 1, createdBy: 'admin' });
    addAccount('did:plc:invitedaaaaaaaaaaaaaaaaa', 'invited.test');
    invites.use(codes[0], 'did:plc:invitedaaaaaaaaaaaaaaaaa');
    const used = invites.usedBy('did:plc:invitedaaaaaaaaaaaaaaaaa');
    assert.equal(used?.code, codes[0]);
    assert.deepEqual(used?.uses.map((u) => u.usedBy), ['did:plc:invitedaaaaaaaaaaaaaaaaa']);
    assert.equal(invites.usedBy('did:plc:barredaaaaaaaaaaaaaaaaaa'), undefined);
    assert.throws(() => invites.use(codes[0], 'did:plc:secondaaaaaaaaaaaaaaaaaa'), (err) => err instanceof AccountError && err.code === 'InvalidInviteCode');
  });

  it('pages by recency and by usage, each code exactly once, in order', () => {
    // Give some codes uses so the usage order has ties and steps.
    const [{ codes }] = invites.create({ forAccounts: ['admin'], useCount: 10, codeCount: 5, createdBy: 'admin' });
    codes.forEach((code, i) => {
      for (let u = 0; u < i; u++) db.prepare('INSERT INTO invite_code_use (code, used_by, used_at) VALUES (?, ?, ?)').run(code, `did:plc:user${i}${u}`, new Date().toISOString());
    });
    const total = (db.prepare('SELECT count(*) AS n FROM invite_code').get() as { n: number }).n;
    for (const sort of ['recent', 'usage'] as const) {
      const seen: Array<{ code: string; createdAt: string; uses: number }> = [];
      let cursor: string | undefined;
      do {
        const page = invites.list({ sort, limit: 3, cursor });
        assert.ok(page.codes.length <= 3);
        seen.push(...page.codes.map((c) => ({ code: c.code, createdAt: c.createdAt, uses: c.uses.length })));
        cursor = page.cursor;
      } while (cursor);
      assert.equal(new Set(seen.map((c) => c.code)).size, total, sort);
      assert.equal(seen.length, total, sort);
      for (let i = 1; i < seen.length; i++) {
        if (sort === 'usage') assert.ok(seen[i - 1].uses >= seen[i].uses, 'most used first');
        else assert.ok(seen[i - 1].createdAt >= seen[i].createdAt, 'newest first');
      }
    }
    assert.equal(invites.list({ sort: 'usage', limit: 1 }).codes[0].code, codes[4]);
  });
});
