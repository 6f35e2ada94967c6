import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../auth/password.ts';
import { SessionTokens } from '../auth/session-jwt.ts';
import { Database, migrate, migrations } from '../db/index.ts';
import appPasswordIds from '../db/migrations/0007-app-password-ids.ts';
import { AccountStore } from './account-store.ts';
import { AppPasswords } from './app-passwords.ts';
import { Sessions } from './sessions.ts';

const DID = 'did:plc:apppasswordsaaaaaaaaaaaa';
const OLD_PASSWORD = 'abcd-efgh-ijkl-mnop';
let dir: string;
let db: Database;
let tokens: SessionTokens;
let oldRefreshJwt: string;

/** A database as it was before app passwords had ids: an app password and a session opened with it. */
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'squall-app-passwords-'));
  db = new Database(join(dir, 'pds.sqlite'));
  assert.equal(migrate(db, migrations.filter((m) => m.id < appPasswordIds.id)).error, undefined);
  new AccountStore(db).insert({ did: DID, handle: 'old.test', email: null, passwordHash: await hashPassword('account-password'), signingKey: 'x', signingKeyDid: 'x', createdAt: new Date().toISOString() });
  db.prepare("INSERT INTO app_password (did, name, password_hash, privileged, created_at) VALUES (?, 'old-phone', ?, 1, ?)").run(DID, await hashPassword(OLD_PASSWORD), new Date().toISOString());
  tokens = new SessionTokens('a-jwt-secret-of-some-length', 'did:web:pds.test');
  const refresh = tokens.createRefresh(DID);
  oldRefreshJwt = refresh.token;
  db.prepare("INSERT INTO refresh_token (id, did, app_password_name, expires_at) VALUES (?, ?, 'old-phone', ?)").run(refresh.claims.jti, DID, new Date(refresh.claims.exp * 1000).toISOString());
  assert.equal(migrate(db, migrations).error, undefined);
});
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('app passwords stored before ids and lookup digests', () => {
  const sessions = () => {
    const appPasswords = new AppPasswords(db, randomBytes(32));
    return { appPasswords, sessions: new Sessions(db, new AccountStore(db), appPasswords, tokens) };
  };

  it('get an id, and their sessions follow them: the old refresh token still refreshes, keeping the privilege', () => {
    const { appPasswords, sessions: s } = sessions();
    const [stored] = appPasswords.list(DID);
    assert.match(stored.id, /^[0-9a-f]{32}$/);
    const { pair } = s.refresh(oldRefreshJwt);
    const claims = tokens.verifyAccess(pair.accessJwt);
    assert.deepEqual([claims.apid, claims.scope], [stored.id, 'com.atproto.appPassPrivileged']);
  });

  it('still log in, and get their lookup digest at that first use', async () => {
    const { appPasswords, sessions: s } = sessions();
    assert.equal(appPasswords.legacyCandidates(DID).length, 1);
    const result = await s.login('old.test', OLD_PASSWORD);
    assert.equal(result.appPassword?.name, 'old-phone');
    assert.equal(appPasswords.legacyCandidates(DID).length, 0);
    assert.equal(appPasswords.candidateByDigest(DID, appPasswords.lookupDigest(OLD_PASSWORD))?.name, 'old-phone');
  });

  it('fall back to the slow path once each when the lookup key changes', async () => {
    const { appPasswords, sessions: s } = sessions(); // another random key: every digest is stale
    assert.equal(appPasswords.legacyCandidates(DID).length, 1);
    assert.equal((await s.login('old.test', OLD_PASSWORD)).appPassword?.name, 'old-phone');
    assert.equal(appPasswords.legacyCandidates(DID).length, 0);
  });
});
