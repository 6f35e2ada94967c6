import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SessionTokens } from '../auth/session-jwt.ts';
import { Database, migrate, migrations } from '../db/index.ts';
import refreshFamilies from '../db/migrations/0009-refresh-families.ts';
import { AccountStore } from './account-store.ts';
import { AppPasswords } from './app-passwords.ts';
import { AccountError } from './errors.ts';
import { REFRESH_RETRY_GRACE_MS, Sessions } from './sessions.ts';

const DID = 'did:plc:refreshfamiliesaaaaaaaaa';
let dir: string;
let db: Database;
let clock: number;
let sessions: Sessions;
let legacyRefreshJwt: string;

const refusedAs = (message: RegExp) => (err: unknown) => err instanceof AccountError && err.code === 'InvalidToken' && message.test(err.message);
const replayRefused = refusedAs(/already used: the session is revoked/);
const revokedRefused = refusedAs(/revoked/);

/** A database with one account, and a session opened before refresh tokens had families. */
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'squall-sessions-'));
  db = new Database(join(dir, 'pds.sqlite'));
  assert.equal(migrate(db, migrations.filter((m) => m.id < refreshFamilies.id)).error, undefined);
  new AccountStore(db).insert({ did: DID, handle: 'fam.test', email: null, passwordHash: 'x', signingKey: 'x', signingKeyDid: 'x', createdAt: new Date().toISOString() });
  clock = Date.parse('2026-12-04T06:00:00Z');
  const tokens = new SessionTokens('a-jwt-secret-of-some-length', 'did:web:pds.test', () => clock);
  const legacy = tokens.createRefresh(DID);
  legacyRefreshJwt = legacy.token;
  db.prepare('INSERT INTO refresh_token (id, did, expires_at) VALUES (?, ?, ?)').run(legacy.claims.jti, DID, new Date(legacy.claims.exp * 1000).toISOString());
  assert.equal(migrate(db, migrations).error, undefined);
  sessions = new Sessions(db, new AccountStore(db), new AppPasswords(db, randomBytes(32)), tokens);
});
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => (clock += 60_000));

describe('refresh tokens: rotation with a retry window and replay detection', () => {
  it('answers a retry of a just-used refresh token with the very same new pair, which then works', () => {
    const login = sessions.issue(DID);
    const first = sessions.refresh(login.refreshJwt).pair;
    clock += REFRESH_RETRY_GRACE_MS - 1000;
    const retried = sessions.refresh(login.refreshJwt).pair;
    assert.deepEqual(retried, first);
    assert.notEqual(first.refreshJwt, login.refreshJwt);
    const next = sessions.refresh(first.refreshJwt).pair;
    assert.equal(sessions.tokens.verifyAccess(next.accessJwt).sub, DID);
  });

  it('takes a reuse after the window for theft: refused, and the session’s newer token dies with it', () => {
    const login = sessions.issue(DID);
    const current = sessions.refresh(login.refreshJwt).pair;
    clock += REFRESH_RETRY_GRACE_MS;
    assert.throws(() => sessions.refresh(login.refreshJwt), replayRefused);
    assert.throws(() => sessions.refresh(current.refreshJwt), revokedRefused);
  });

  it('takes a replay of a token whose successor was already used for theft, even within the window', () => {
    const login = sessions.issue(DID);
    const second = sessions.refresh(login.refreshJwt).pair;
    const third = sessions.refresh(second.refreshJwt).pair;
    assert.throws(() => sessions.refresh(login.refreshJwt), replayRefused);
    assert.throws(() => sessions.refresh(third.refreshJwt), revokedRefused);
  });

  it('still knows a token used long ago, after its row was tidied away, by the family it carries', () => {
    const login = sessions.issue(DID);
    let pair = sessions.refresh(login.refreshJwt).pair;
    clock += REFRESH_RETRY_GRACE_MS + 1000;
    pair = sessions.refresh(pair.refreshJwt).pair;
    sessions.issue(DID); // a login tidies the account's spent tokens
    const { jti } = sessions.tokens.verifyRefresh(login.refreshJwt);
    assert.equal(db.prepare('SELECT id FROM refresh_token WHERE id = ?').get(jti), undefined);
    assert.throws(() => sessions.refresh(login.refreshJwt), replayRefused);
    assert.throws(() => sessions.refresh(pair.refreshJwt), revokedRefused);
  });

  it('revokes only the replayed session’s family: another session of the account carries on', () => {
    const phone = sessions.issue(DID);
    const laptop = sessions.issue(DID);
    const phoneNext = sessions.refresh(phone.refreshJwt).pair;
    sessions.refresh(phoneNext.refreshJwt);
    assert.throws(() => sessions.refresh(phone.refreshJwt), replayRefused);
    assert.ok(sessions.refresh(laptop.refreshJwt).pair.accessJwt);
  });

  it('logging out with a token still in its retry window ends the session it led to', () => {
    const login = sessions.issue(DID);
    const current = sessions.refresh(login.refreshJwt).pair;
    sessions.revoke(login.refreshJwt);
    assert.throws(() => sessions.refresh(current.refreshJwt), revokedRefused);
    assert.throws(() => sessions.refresh(login.refreshJwt), revokedRefused);
  });

  it('gives a session opened before families existed one of its own: it rotates, and its replay is caught', () => {
    const next = sessions.refresh(legacyRefreshJwt).pair;
    assert.equal(sessions.tokens.verifyRefresh(next.refreshJwt).fam, sessions.tokens.verifyRefresh(legacyRefreshJwt).jti);
    const after = sessions.refresh(next.refreshJwt).pair;
    assert.throws(() => sessions.refresh(legacyRefreshJwt), replayRefused);
    assert.throws(() => sessions.refresh(after.refreshJwt), revokedRefused);
  });
});
