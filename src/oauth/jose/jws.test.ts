import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { JoseError } from './errors.ts';
import { importPublicJwk, jwkThumbprint } from './jwk.ts';
import { parseCompactJws, SUPPORTED_JWS_ALGS, verifyJwsSignature } from './jws.ts';

async function signed(alg: string, payload: Record<string, unknown> = { hello: 'world' }, header: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await jose.exportJWK(publicKey);
  const token = await new jose.SignJWT(payload).setProtectedHeader({ alg, ...header }).sign(privateKey);
  return { token, jwk };
}

describe('JWS verification on node:crypto', () => {
  for (const alg of SUPPORTED_JWS_ALGS) {
    it(`verifies an ${alg} signature made by jose, and refuses it once the payload changes`, async () => {
      const { token, jwk } = await signed(alg);
      const key = importPublicJwk(jwk);
      verifyJwsSignature(parseCompactJws(token, 16_384), key);
      const [h, , s] = token.split('.');
      const forged = `${h}.${Buffer.from('{"hello":"there"}').toString('base64url')}.${s}`;
      assert.throws(() => verifyJwsSignature(parseCompactJws(forged, 16_384), key), /does not verify/);
    });
  }

  it('refuses "none", algorithms outside the allowed list, and a key of the wrong type', async () => {
    const { token, jwk } = await signed('ES256');
    const [, p, s] = token.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.${s}`;
    assert.throws(() => verifyJwsSignature(parseCompactJws(none, 9999), importPublicJwk(jwk)), /unsupported jwt alg "none"/);
    assert.throws(() => verifyJwsSignature(parseCompactJws(token, 9999), importPublicJwk(jwk), ['EdDSA']), /unsupported jwt alg "ES256"/);
    const rsa = await signed('RS256');
    assert.throws(() => verifyJwsSignature(parseCompactJws(token, 9999), importPublicJwk(rsa.jwk)), /cannot verify ES256/);
  });

  it('refuses HMAC algorithms even when someone holds the public key (no alg confusion)', async () => {
    const { jwk } = await signed('ES256');
    const hs = await new jose.SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(JSON.stringify(jwk)));
    assert.throws(() => verifyJwsSignature(parseCompactJws(hs, 9999), importPublicJwk(jwk)), /unsupported jwt alg "HS256"/);
  });

  it('refuses critical header extensions it does not know', async () => {
    const { token, jwk } = await signed('ES256', {}, { crit: ['b64'], b64: true });
    assert.throws(() => verifyJwsSignature(parseCompactJws(token, 9999), importPublicJwk(jwk)), /critical header/);
  });

  it('refuses malformed compact serialisations and oversized tokens', () => {
    for (const bad of ['', 'a.b', 'a.b.c.d', '..', 'e30.e30.', `${'x'.repeat(10)}.e30.AA`]) {
      assert.throws(() => parseCompactJws(bad, 9999), JoseError, bad);
    }
    assert.throws(() => parseCompactJws(`e30.e30.${'A'.repeat(100)}`, 50), /too long/);
  });

  it('refuses private and symmetric keys, and keys too small', async () => {
    const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const privateJwk = await jose.exportJWK(privateKey);
    assert.throws(() => importPublicJwk(privateJwk), /private members/);
    assert.throws(() => importPublicJwk({ kty: 'oct', k: 'AAAA' }), /private members/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const input = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}`;
    const token = `${input}.${sign('sha256', Buffer.from(input), small.privateKey).toString('base64url')}`;
    const smallJwk = small.publicKey.export({ format: 'jwk' });
    assert.throws(() => verifyJwsSignature(parseCompactJws(token, 9999), importPublicJwk(smallJwk)), /at least 2048 bits/);
  });

  it('computes RFC 7638 thumbprints exactly as jose does', async () => {
    for (const alg of ['ES256', 'EdDSA', 'RS256']) {
      const { jwk } = await signed(alg);
      assert.equal(jwkThumbprint(jwk as never), await jose.calculateJwkThumbprint(jwk));
      assert.equal(importPublicJwk({ ...jwk, kid: 'extra members do not count' }).thumbprint, await jose.calculateJwkThumbprint(jwk));
    }
  });
});
