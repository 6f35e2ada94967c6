import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import * as jose from 'jose';
import { MemoryReplayStore, ReplayQuotaError, ReplayStoreFullError } from '../replay.ts';
import { DpopNonces } from './nonces.ts';
import { DpopError, DpopVerifier, normalizeHtu } from './proof.ts';

const HTU = 'https://pds.example.com/xrpc/com.atproto.repo.createRecord';
const secret = Buffer.alloc(32, 7);

async function setup(now = () => Date.now()) {
  const nonces = new DpopNonces(secret, 60_000, now);
  const verifier = new DpopVerifier(nonces, new MemoryReplayStore(1000, now), now);
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  const proof = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
    const payload: Record<string, unknown> = { htm: 'POST', htu: HTU, jti: crypto.randomUUID(), iat: Math.floor(now() / 1000), nonce: nonces.current(), ...claims };
    for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
    return new jose.SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header }).sign(privateKey);
  };
  return { nonces, verifier, proof, jwk };
}

async function refused(promise: Promise<unknown>, code: DpopError['code'], message: RegExp) {
  await assert.rejects(promise, (err: unknown) => err instanceof DpopError && err.code === code && message.test(err.message));
}

describe('DPoP proofs', () => {
  it('accepts a fresh proof and names its key by thumbprint', async () => {
    const { verifier, proof, jwk } = await setup();
    const result = await verifier.verify(await proof(), { htm: 'POST', htu: HTU });
    assert.equal(result?.jkt, await jose.calculateJwkThumbprint(jwk));
  });

  it('returns nothing when no proof was sent, and refuses two DPoP headers', async () => {
    const { verifier, proof } = await setup();
    assert.equal(await verifier.verify(undefined, { htm: 'POST', htu: HTU }), undefined);
    await refused(verifier.verify([await proof(), await proof()], { htm: 'POST', htu: HTU }), 'invalid_dpop_proof', /exactly one/);
  });

  it('refuses the wrong typ, a missing key, another method or URL, and an iat far from now', async () => {
    const { verifier, proof } = await setup();
    const expect = { htm: 'POST', htu: HTU };
    await refused(verifier.verify(await proof({}, { typ: 'JWT' }), expect), 'invalid_dpop_proof', /typ/);
    await refused(verifier.verify(await proof({}, { jwk: undefined }), expect), 'invalid_dpop_proof', /jwk/);
    await refused(verifier.verify(await proof({ htm: 'GET' }), expect), 'invalid_dpop_proof', /htm/);
    await refused(verifier.verify(await proof({ htu: 'https://other.example.com/xrpc/x' }), expect), 'invalid_dpop_proof', /htu/);
    await refused(verifier.verify(await proof({ iat: Math.floor(Date.now() / 1000) - 3600 }), expect), 'invalid_dpop_proof', /iat/);
    await refused(verifier.verify(await proof({ jti: undefined }), expect), 'invalid_dpop_proof', /jti/);
  });

  it('checks the signature of every proof, also when its header (the same key) was seen in a verified proof before', async () => {
    const { verifier, proof } = await setup();
    const expect = { htm: 'POST', htu: HTU };
    assert.ok(await verifier.verify(await proof(), expect));
    // The same header (same jwk), a payload it never signed: the signature of the next proof pasted on.
    const [header, payload] = (await proof()).split('.');
    const otherSignature = (await proof()).split('.')[2];
    await refused(verifier.verify(`${header}.${payload}.${otherSignature}`, expect), 'invalid_dpop_proof', /signature does not verify/);
    // A header first seen with a bad signature, then with a good one: accepted only then.
    const fresh = await setup();
    const [h2, p2, s2] = (await fresh.proof()).split('.');
    await refused(fresh.verifier.verify(`${h2}.${p2}.${Buffer.alloc(64, 1).toString('base64url')}`, expect), 'invalid_dpop_proof', /signature/);
    assert.ok(await fresh.verifier.verify(`${h2}.${p2}.${s2}`, expect));
  });

  it('takes an htu written differently but naming the same URL, and refuses another path', async () => {
    const { verifier, proof } = await setup();
    const expect = { htm: 'POST', htu: HTU };
    assert.ok(await verifier.verify(await proof({ htu: 'HTTPS://PDS.example.com:443/xrpc/com.atproto.repo.createRecord' }), expect));
    await refused(verifier.verify(await proof({ htu: 'https://pds.example.com/xrpc/com.atproto.repo.deleteRecord' }), expect), 'invalid_dpop_proof', /htu/);
  });

  it('ignores the query and fragment of htu, as RFC 9449 says', async () => {
    const { verifier, proof } = await setup();
    assert.ok(await verifier.verify(await proof({ htu: `${HTU}?x=1#y` }), { htm: 'POST', htu: HTU }));
    assert.equal(normalizeHtu('HTTPS://PDS.example.com:443/a/../xrpc/b'), 'https://pds.example.com/xrpc/b');
  });

  it('asks for a nonce when there is none, or when it is stale', async () => {
    let now = Date.now();
    const { verifier, proof, nonces } = await setup(() => now);
    await refused(verifier.verify(await proof({ nonce: undefined }), { htm: 'POST', htu: HTU }), 'use_dpop_nonce', /requires nonce/);
    const old = nonces.current();
    now += 3 * 60_000;
    await refused(verifier.verify(await proof({ nonce: old }), { htm: 'POST', htu: HTU }), 'use_dpop_nonce', /stale/);
  });

  it('refuses a proof seen before', async () => {
    const { verifier, proof } = await setup();
    const once = await proof();
    await verifier.verify(once, { htm: 'POST', htu: HTU });
    await refused(verifier.verify(once, { htm: 'POST', htu: HTU }), 'invalid_dpop_proof', /already used/);
  });

  it('requires ath to be the access token hash when a token is presented, and only then', async () => {
    const { verifier, proof } = await setup();
    const token = 'an-access-token';
    const ath = createHash('sha256').update(token).digest('base64url');
    assert.ok(await verifier.verify(await proof({ ath }), { htm: 'POST', htu: HTU, accessToken: token }));
    await refused(verifier.verify(await proof({ ath: 'x' }), { htm: 'POST', htu: HTU, accessToken: token }), 'invalid_dpop_proof', /ath/);
    await refused(verifier.verify(await proof(), { htm: 'POST', htu: HTU, accessToken: token }), 'invalid_dpop_proof', /ath/);
    await refused(verifier.verify(await proof({ ath }), { htm: 'POST', htu: HTU }), 'invalid_dpop_proof', /ath/);
  });
});

describe('DPoP nonces', () => {
  it('hands out one nonce per minute and accepts the previous and next ones only', () => {
    let now = 1_000_000_000_000;
    const nonces = new DpopNonces(secret, 60_000, () => now);
    const first = nonces.current();
    assert.equal(nonces.current(), first);
    now += 60_000;
    const second = nonces.current();
    assert.notEqual(second, first);
    assert.notEqual(nonces.stepOf(first), undefined, 'the previous nonce is still accepted');
    now += 60_000;
    assert.notEqual(nonces.stepOf(second), undefined);
    assert.equal(nonces.stepOf(first), undefined, 'two steps old: refused');
    assert.equal(nonces.stepOf('made-up'), undefined);
  });

  it('agrees across processes that share the secret', () => {
    const now = () => 1_700_000_000_000;
    assert.equal(new DpopNonces(secret, 60_000, now).current(), new DpopNonces(Buffer.from(secret), 60_000, now).current());
    assert.notEqual(new DpopNonces(secret, 60_000, now).current(), new DpopNonces(Buffer.alloc(32, 8), 60_000, now).current());
  });
});

describe('the replay store', () => {
  it('accepts a value once per namespace until it expires', () => {
    let now = 0;
    const store = new MemoryReplayStore(10, () => now);
    assert.equal(store.unique('a', 'x', 1000), true);
    assert.equal(store.unique('a', 'x', 1000), false);
    assert.equal(store.unique('b', 'x', 1000), true);
    now = 1001;
    assert.equal(store.unique('a', 'x', 1000), true);
  });

  it('refuses new values rather than forget live ones when full', () => {
    let now = 0;
    const store = new MemoryReplayStore(2, () => now);
    store.unique('a', '1', 1000);
    store.unique('a', '2', 1000);
    assert.throws(() => store.unique('a', '3', 1000), ReplayStoreFullError);
    assert.equal(store.unique('a', '1', 1000), false, 'what it holds is still refused');
    now = 1001;
    assert.equal(store.unique('a', '3', 1000), true, 'room again once entries expire');
  });

  it('gives one owner at most a tenth of a namespace, so the others still get in', () => {
    let now = 0;
    const store = new MemoryReplayStore(20, () => now);
    assert.equal(store.maxEntriesPerOwner, 2);
    assert.equal(store.unique('a', '1', 1000, 'flood'), true);
    assert.equal(store.unique('a', '2', 1000, 'flood'), true);
    assert.throws(() => store.unique('a', '3', 1000, 'flood'), ReplayQuotaError);
    assert.equal(store.unique('a', '1', 1000, 'flood'), false, 'a replay is still a replay, not a quota refusal');
    assert.equal(store.unique('a', '4', 1000, 'other'), true);
    assert.equal(store.unique('b', '3', 1000, 'flood'), true, 'shares are per namespace');
    now = 1001;
    assert.equal(store.unique('a', '3', 1000, 'flood'), true, 'the share frees as its values expire');
  });

  it('has no shares when they are turned off, only the namespace bound', () => {
    const store = new MemoryReplayStore(3, () => 0, Infinity);
    for (const v of ['1', '2', '3']) assert.equal(store.unique('a', v, 1000, 'one'), true);
    assert.throws(() => store.unique('a', '4', 1000, 'one'), ReplayStoreFullError);
  });
});

describe('DPoP proofs under a flood', () => {
  it('turns away the key that used up its share of the replay memory, and nobody else', async () => {
    const now = () => Date.now();
    const nonces = new DpopNonces(secret, 60_000, now);
    const verifier = new DpopVerifier(nonces, new MemoryReplayStore(30, now), now);
    const client = async () => {
      const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
      const jwk = await jose.exportJWK(publicKey);
      return () =>
        new jose.SignJWT({ htm: 'POST', htu: HTU, jti: crypto.randomUUID(), iat: Math.floor(now() / 1000), nonce: nonces.current() })
          .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
          .sign(privateKey);
    };
    const [flood, quiet] = [await client(), await client()];
    const expect = { htm: 'POST', htu: HTU };
    for (let i = 0; i < 3; i++) assert.ok(await verifier.verify(await flood(), expect));
    await assert.rejects(verifier.verify(await flood(), expect), ReplayQuotaError);
    assert.ok(await verifier.verify(await quiet(), expect));
  });
});
