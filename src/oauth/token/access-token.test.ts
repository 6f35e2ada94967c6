import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessTokenError, AccessTokens } from './access-token.ts';

const key = Buffer.alloc(32, 1);
const fields = { sub: 'did:plc:abc', client_id: 'https://app.example.com/meta.json', scope: 'atproto', sid: 'ses-1', jkt: 'thumb' };

describe('OAuth access tokens', () => {
  it('round-trip their claims, bound to the DPoP key and the session', () => {
    const tokens = new AccessTokens(key, 'https://pds.example.com', 'did:web:pds.example.com');
    const { token } = tokens.issue(fields);
    const claims = tokens.verify(token);
    assert.equal(claims.sub, 'did:plc:abc');
    assert.equal(claims.cnf.jkt, 'thumb');
    assert.equal(claims.sid, 'ses-1');
    assert.ok(claims.exp - claims.iat <= 30 * 60, 'under 30 minutes');
    assert.ok(tokens.isOurs(token));
  });

  it('expire, even when verified (and remembered) before', () => {
    let now = Date.now();
    const tokens = new AccessTokens(key, 'https://pds.example.com', 'did:web:pds.example.com', () => now);
    const { token } = tokens.issue(fields);
    tokens.verify(token);
    now += 16 * 60_000;
    assert.throws(() => tokens.verify(token), (err: unknown) => err instanceof AccessTokenError && err.reason === 'expired');
  });

  it('refuse another key, edited claims, and another issuer', () => {
    const tokens = new AccessTokens(key, 'https://pds.example.com', 'did:web:pds.example.com');
    const other = new AccessTokens(Buffer.alloc(32, 2), 'https://pds.example.com', 'did:web:pds.example.com');
    const { token } = other.issue(fields);
    assert.throws(() => tokens.verify(token), /could not be verified/);
    assert.equal(tokens.isOurs(token), false);
    const [h, p, s] = tokens.issue(fields).token.split('.');
    const edited = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'did:plc:other' })).toString('base64url');
    assert.throws(() => tokens.verify(`${h}.${edited}.${s}`), /could not be verified/);
    const elsewhere = new AccessTokens(key, 'https://other.example.com', 'did:web:pds.example.com');
    assert.throws(() => elsewhere.verify(tokens.issue(fields).token), /another server/);
  });
});
