import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../db/index.ts';
import { openMigratedDatabase, type MigratedDatabase } from '../../test/helpers/migrated-database.ts';
import { EMAIL_TOKEN_PATTERN, EMAIL_TOKEN_TTL_MS } from '../email/tokens.ts';
import { AccountStore } from './account-store.ts';
import { EmailTokens } from './email-tokens.ts';
import { AccountFlowError } from './flow-errors.ts';

let store: MigratedDatabase;
let db: Database;
let clock = Date.parse('2030-01-01T00:00:00Z');
let tokens: EmailTokens;

function addAccount(did: string): void {
  new AccountStore(db).insert({
    did,
    handle: `${did.slice(-6)}.test`,
    email: `${did.slice(-6)}@example.com`,
    passwordHash: 'x',
    signingKey: 'ES256K:00',
    signingKeyDid: 'did:key:z',
    createdAt: new Date(clock).toISOString(),
  });
}

function flowError(code: string) {
  return (err: unknown) => err instanceof AccountFlowError && err.code === code;
}

before(() => {
  store = openMigratedDatabase();
  db = store.db;
  tokens = new EmailTokens(db, { now: () => clock });
  for (const did of ['did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb']) addAccount(did);
});
after(() => store.close());

const alice = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
const bob = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb';

describe('email tokens', () => {
  it('issues XXXXX-XXXXX codes and stores only their digest', () => {
    const token = tokens.create(alice, 'confirm_email');
    assert.match(token, EMAIL_TOKEN_PATTERN);
    const row = db.prepare('SELECT token FROM email_token WHERE did = ? AND purpose = ?').get(alice, 'confirm_email') as { token: string };
    assert.match(row.token, /^[0-9a-f]{64}$/);
    assert.ok(!row.token.includes(token));
  });

  it('accepts the live code typed in lower case with spaces around it', () => {
    const token = tokens.create(alice, 'update_email');
    tokens.verify(alice, 'update_email', `  ${token.toLowerCase()} `);
  });

  it('refuses a wrong code, another purpose, another account and malformed input as InvalidToken', () => {
    const token = tokens.create(alice, 'delete_account');
    assert.throws(() => tokens.verify(alice, 'delete_account', 'AAAAA-AAAAA'), flowError('InvalidToken'));
    assert.throws(() => tokens.verify(alice, 'reset_password', token), flowError('InvalidToken'));
    assert.throws(() => tokens.verify(bob, 'delete_account', token), flowError('InvalidToken'));
    for (const junk of ['', 'not a token', `${token}x`, token.replace('-', '')]) {
      assert.throws(() => tokens.verify(alice, 'delete_account', junk), flowError('InvalidToken'));
    }
  });

  it('replaces the earlier code when a new one is requested', () => {
    const first = tokens.create(bob, 'confirm_email');
    const second = tokens.create(bob, 'confirm_email');
    assert.throws(() => tokens.verify(bob, 'confirm_email', first), flowError('InvalidToken'));
    tokens.verify(bob, 'confirm_email', second);
  });

  it('works once: consume deletes the code', () => {
    const token = tokens.create(bob, 'update_email');
    tokens.consume(bob, 'update_email', token);
    assert.throws(() => tokens.consume(bob, 'update_email', token), flowError('InvalidToken'));
  });

  it('expires fifteen minutes after the request, not a millisecond later', () => {
    const token = tokens.create(alice, 'plc_operation');
    const start = clock;
    try {
      clock = start + EMAIL_TOKEN_TTL_MS - 1;
      tokens.verify(alice, 'plc_operation', token);
      clock = start + EMAIL_TOKEN_TTL_MS;
      assert.throws(() => tokens.verify(alice, 'plc_operation', token), flowError('ExpiredToken'));
      assert.throws(() => tokens.verifyAny('plc_operation', token), flowError('ExpiredToken'));
    } finally {
      clock = start;
    }
  });

  it('finds the account of a password-reset code from the code alone', () => {
    const forAlice = tokens.create(alice, 'reset_password');
    const forBob = tokens.create(bob, 'reset_password');
    assert.equal(tokens.verifyAny('reset_password', forAlice.toLowerCase()), alice);
    assert.equal(tokens.verifyAny('reset_password', forBob), bob);
    assert.throws(() => tokens.verifyAny('reset_password', 'ZZZZZ-ZZZZZ'), flowError('InvalidToken'));
    assert.throws(() => tokens.verifyAny('confirm_email', forAlice), flowError('InvalidToken'));
    assert.throws(() => tokens.verifyAny('reset_password', 'garbage'), flowError('InvalidToken'));
  });

  it('prunes only codes whose lifetime is over', () => {
    const start = clock;
    try {
      db.prepare('DELETE FROM email_token').run();
      tokens.create(alice, 'confirm_email');
      clock = start + EMAIL_TOKEN_TTL_MS + 1;
      tokens.create(bob, 'confirm_email');
      assert.equal(tokens.pruneExpired(), 1);
      assert.deepEqual(db.prepare('SELECT did FROM email_token').all(), [{ did: bob }]);
    } finally {
      clock = start;
    }
  });

  it('goes away with its account', () => {
    const carol = 'did:plc:cccccccccccccccccccccccc';
    addAccount(carol);
    tokens.create(carol, 'confirm_email');
    new AccountStore(db).delete(carol);
    assert.equal((db.prepare('SELECT count(*) AS n FROM email_token WHERE did = ?').get(carol) as { n: number }).n, 0);
  });
});
