import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Scope, SessionTokenError, SessionTokens } from './session-jwt.ts';

const did = 'did:plc:abcdefghijklmnopqrstuvwx';

function expectFailure(fn: () => unknown, reason: SessionTokenError['reason']) {
  assert.throws(fn, (err: unknown) => err instanceof SessionTokenError && err.reason === reason);
}

describe('session tokens', () => {
  const tokens = new SessionTokens('a-long-enough-test-secret', 'did:web:pds.test');

  it('round-trips an access token with its scope', () => {
    const { token } = tokens.createAccess(did, Scope.Access);
    const claims = tokens.verifyAccess(token);
    assert.equal(claims.sub, did);
    assert.equal(claims.scope, Scope.Access);
    assert.equal(claims.exp - claims.iat, 2 * 60 * 60);
  });

  it('records the app password id of an app-password session', () => {
    const { token } = tokens.createAccess(did, Scope.AppPass, '0123456789abcdef0123456789abcdef');
    assert.equal(tokens.verifyAccess(token).apid, '0123456789abcdef0123456789abcdef');
  });

  it('never accepts a refresh token as an access token, nor the reverse', () => {
    const refresh = tokens.createRefresh(did).token;
    const access = tokens.createAccess(did, Scope.Access).token;
    expectFailure(() => tokens.verifyAccess(refresh), 'wrong-type');
    expectFailure(() => tokens.verifyRefresh(access), 'wrong-type');
  });

  it('refuses a token signed with another secret', () => {
    const other = new SessionTokens('another-test-secret-xyz', 'did:web:pds.test');
    expectFailure(() => tokens.verifyAccess(other.createAccess(did, Scope.Access).token), 'bad-signature');
  });

  it('refuses a token whose claims were edited', () => {
    const [h, , s] = tokens.createAccess(did, Scope.AppPass, 'x').token.split('.');
    const forged = Buffer.from(JSON.stringify({ scope: Scope.Access, sub: did, aud: 'did:web:pds.test', iat: 0, exp: 9e9, jti: 'x' })).toString('base64url');
    expectFailure(() => tokens.verifyAccess(`${h}.${forged}.${s}`), 'bad-signature');
  });

  it('refuses an expired token', () => {
    let now = Date.now();
    const clocked = new SessionTokens('a-long-enough-test-secret', 'did:web:pds.test', () => now);
    const { token } = clocked.createAccess(did, Scope.Access);
    now += 2 * 60 * 60 * 1000 + 1000;
    expectFailure(() => clocked.verifyAccess(token), 'expired');
  });

  it('refuses a token issued for another service', () => {
    const other = new SessionTokens('a-long-enough-test-secret', 'did:web:other.test');
    expectFailure(() => tokens.verifyAccess(other.createAccess(did, Scope.Access).token), 'wrong-audience');
  });

  it('refuses garbage', () => {
    expectFailure(() => tokens.verifyAccess('garbage'), 'malformed');
    expectFailure(() => tokens.verifyAccess('a.b.c'), 'bad-signature');
  });

  it('still expires a token it has already verified (and remembered) before', () => {
    let now = Date.now();
    const clocked = new SessionTokens('a-long-enough-test-secret', 'did:web:pds.test', () => now);
    const { token } = clocked.createAccess(did, Scope.Access);
    assert.equal(clocked.verifyAccess(token).sub, did);
    now += 2 * 60 * 60 * 1000 + 1000;
    expectFailure(() => clocked.verifyAccess(token), 'expired');
  });

  it('refuses an edited copy of a token it has already verified, and the remembered token stays good', () => {
    const { token } = tokens.createAccess(did, Scope.AppPass, 'x');
    tokens.verifyAccess(token);
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ scope: Scope.Access, sub: did, aud: 'did:web:pds.test', iat: 0, exp: 9e9, jti: 'x' })).toString('base64url');
    expectFailure(() => tokens.verifyAccess(`${h}.${forged}.${s}`), 'bad-signature');
    expectFailure(() => tokens.verifyAccess(`${token.slice(0, -2)}AA`), 'bad-signature');
    assert.equal(tokens.verifyAccess(token).scope, Scope.AppPass);
  });

  it('keeps telling access from refresh tokens once both were verified', () => {
    const refresh = tokens.createRefresh(did).token;
    const access = tokens.createAccess(did, Scope.Access).token;
    tokens.verifyRefresh(refresh);
    tokens.verifyAccess(access);
    expectFailure(() => tokens.verifyAccess(refresh), 'wrong-type');
    expectFailure(() => tokens.verifyRefresh(access), 'wrong-type');
  });

  it('hands out claims no caller can change for the next request', () => {
    const { token } = tokens.createAccess(did, Scope.Access);
    const claims = tokens.verifyAccess(token) as { sub: string };
    assert.throws(() => {
      claims.sub = 'did:plc:someoneelse';
    }, TypeError);
    assert.equal(tokens.verifyAccess(token).sub, did);
  });

  it('refuses a signed token whose parts are JSON but not objects', () => {
    const sign = (payload: string) => {
      const input = `${Buffer.from('null').toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
      return `${input}.${createHmac('sha256', 'a-long-enough-test-secret').update(input).digest('base64url')}`;
    };
    expectFailure(() => tokens.verifyAccess(sign('1')), 'malformed');
  });
});
