import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as atprotoCrypto from '@atproto/crypto';
import { createServiceJwt as referenceCreate, verifyJwt as referenceVerify } from '@atproto/xrpc-server';
import { generateKeypair, importKeypair, type Keypair } from '../crypto/index.ts';
import { DidResolver } from '../identity/did-resolver.ts';
import { createGenesisOperation } from '../identity/plc-operation.ts';
import { startTestPlc, type TestPlc } from '../identity/testing-plc.ts';
import {
  BadJwtAudienceError,
  BadJwtError,
  BadJwtLexiconMethodError,
  BadJwtSignatureError,
  JwtExpiredError,
  ServiceJwtBusyError,
  ServiceJwtError,
  ServiceJwtParamsError,
  createServiceJwt,
  verifyServiceJwt,
  type SigningKeyResolver,
  type VerifyServiceJwtOptions,
} from './service-jwt.ts';
import { ServiceJwtReplayGuard } from './service-jwt-replay.ts';

const AUD = 'did:web:appview.example.com#bsky_appview';
const LXM = 'app.bsky.feed.getTimeline';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decodePart = (token: string, i: number) => JSON.parse(Buffer.from(token.split('.')[i], 'base64url').toString('utf8')) as Record<string, unknown>;
/** A token with exactly these claims, signed (no minting rules): what a careless or hostile issuer sends. */
async function signClaims(keypair: Keypair, payload: Record<string, unknown>): Promise<string> {
  const input = `${b64({ typ: 'JWT', alg: keypair.alg })}.${b64(payload)}`;
  return `${input}.${Buffer.from(await keypair.sign(Buffer.from(input))).toString('base64url')}`;
}
/** The other valid spelling of an ECDSA signature (s → n - s), which anyone can compute. */
function flipS(token: string): string {
  const [h, p, s] = token.split('.');
  const sig = Buffer.from(s, 'base64url');
  const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'); // secp256k1 order
  const flipped = (n - BigInt(`0x${sig.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0');
  return `${h}.${p}.${Buffer.concat([sig.subarray(0, 32), Buffer.from(flipped, 'hex')]).toString('base64url')}`;
}

describe('service-auth JWTs against DIDs in a real PLC directory', () => {
  let plc: TestPlc;
  let rotation: Keypair;
  let account: Keypair;
  let did: string;
  let resolver: DidResolver;
  let calls: boolean[];
  let resolveKey: SigningKeyResolver;

  before(async () => {
    plc = await startTestPlc();
    [rotation, account] = await Promise.all([generateKeypair('ES256K'), generateKeypair('ES256K')]);
    const genesis = await createGenesisOperation(
      { rotationKeys: [rotation.did()], signingKey: account.did(), handle: 'alice.test', pdsEndpoint: 'https://pds.example.com' },
      rotation,
    );
    did = genesis.did;
    await plc.client.submitOperation(did, genesis.operation);
    resolver = new DidResolver({ plc: plc.client, cache: { minRefreshIntervalMs: 0 } });
    calls = [];
    resolveKey = async (iss, { forceRefresh, keyId }) => {
      calls.push(forceRefresh);
      return resolver.resolveSigningKey(iss, { forceRefresh, keyId });
    };
  });
  after(() => plc.close());

  const verify = (token: string, extra: Partial<VerifyServiceJwtOptions> = {}) =>
    verifyServiceJwt(token, { audience: AUD, lxm: LXM, resolveKey, ...extra });

  async function refusal(promise: Promise<unknown>): Promise<ServiceJwtError> {
    try {
      await promise;
    } catch (err) {
      assert.ok(err instanceof ServiceJwtError, `expected a ServiceJwtError, got ${String(err)}`);
      return err;
    }
    assert.fail('expected the token to be refused');
  }

  test('mints a token that verifies against the key the PLC directory publishes', async () => {
    const token = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account });
    assert.deepEqual(decodePart(token, 0), { typ: 'JWT', alg: 'ES256K' });
    const payload = decodePart(token, 1);
    assert.equal(payload.exp, (payload.iat as number) + 60);
    assert.match(payload.jti as string, /^[0-9a-f]{32}$/);
    const verified = await verify(token);
    assert.equal(verified.did, did);
    assert.equal(verified.keyId, 'atproto');
    assert.deepEqual(verified.payload, payload);
  });

  test('refuses an expired token, allowing a few seconds of clock skew', async () => {
    const now = Date.now();
    const token = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account });
    const exp = decodePart(token, 1).exp as number;
    await verify(token, { now: () => exp * 1000 + 4_000 });
    assert.ok(await refusal(verify(token, { now: () => exp * 1000 + 6_000 })) instanceof JwtExpiredError);
    assert.ok(await refusal(verify(token, { now: () => now + 120_000, clockSkewS: 0 })) instanceof JwtExpiredError);
  });

  test('refuses a token for another audience, and accepts any of several', async () => {
    const token = await createServiceJwt({ iss: did, aud: 'did:web:other.example.com', lxm: LXM, keypair: account });
    const err = await refusal(verify(token));
    assert.ok(err instanceof BadJwtAudienceError);
    assert.equal(err.reason, 'BadJwtAudience');
    await verify(token, { audience: [AUD, 'did:web:other.example.com'] });
  });

  test('refuses a wrong or missing lexicon method when one is required', async () => {
    const other = await createServiceJwt({ iss: did, aud: AUD, lxm: 'com.atproto.repo.createRecord', keypair: account });
    const wrong = await refusal(verify(other));
    assert.ok(wrong instanceof BadJwtLexiconMethodError);
    assert.match(wrong.message, /bad jwt lexicon method/);
    const none = await createServiceJwt({ iss: did, aud: AUD, keypair: account });
    assert.match((await refusal(verify(none))).message, /missing jwt lexicon method/);
    await verify(none, { lxm: null });
  });

  test('refuses a tampered payload and a tampered signature', async () => {
    const token = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account });
    const [h, p, s] = token.split('.');
    const forgedPayload = b64({ ...decodePart(token, 1), exp: (decodePart(token, 1).exp as number) + 1800 });
    assert.ok((await refusal(verify(`${h}.${forgedPayload}.${s}`))) instanceof BadJwtSignatureError);
    const sig = Buffer.from(s, 'base64url');
    sig[10] ^= 1;
    assert.ok((await refusal(verify(`${h}.${p}.${sig.toString('base64url')}`))) instanceof BadJwtSignatureError);
  });

  test('picks up a rotated key: the cached key fails, one uncached look succeeds', async () => {
    await resolver.resolve(did); // the verifier has the current document cached
    const next = await generateKeypair('ES256');
    await plc.client.updateSigningKey(did, rotation, next.did());
    const token = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: next });
    calls.length = 0;
    await verify(token);
    assert.deepEqual(calls, [false, true]);
    // A token from the retired key now fails even after the fresh look.
    const stale = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account });
    calls.length = 0;
    assert.ok((await refusal(verify(stale))) instanceof BadJwtSignatureError);
    assert.deepEqual(calls, [false, true]);
    await plc.client.updateSigningKey(did, rotation, account.did());
    await resolver.resolve(did, { forceRefresh: true });
  });

  test('refuses alg none, HMAC, an alg that does not match the key, and access/refresh token types', async () => {
    const token = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account });
    const [, p, s] = token.split('.');
    for (const header of [{ alg: 'none' }, { alg: 'HS256', typ: 'JWT' }, {}]) {
      assert.equal((await refusal(verify(`${b64(header)}.${p}.${s}`))).reason, 'BadJwt');
    }
    // Same signature bytes, header claiming the other curve: the signature no longer covers it anyway,
    // but the key-type check must fail first on a key of the wrong curve.
    assert.ok((await refusal(verify(`${b64({ typ: 'JWT', alg: 'ES256' })}.${p}.${s}`))) instanceof BadJwtSignatureError);
    for (const typ of ['at+jwt', 'refresh+jwt', 'dpop+jwt']) {
      assert.equal((await refusal(verify(`${b64({ typ, alg: 'ES256K' })}.${p}.${s}`))).reason, 'BadJwtType');
    }
  });

  test('refuses malformed tokens as BadJwt', async () => {
    const good = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account });
    const [h, , s] = good.split('.');
    const cases = [
      '',
      'a.b',
      'a.b.c.d',
      `${h}.${b64([1, 2])}.${s}`,
      `${h}.${b64({ iss: did, aud: AUD, exp: '1' })}.${s}`,
      `${h}.${b64({ iss: did, aud: AUD, exp: 1e10, lxm: 5 })}.${s}`,
      `${h}.${b64({ iss: did, exp: 1e10 })}.${s}`,
      `${h}.%%%.${s}`,
      `${h}.${good.split('.')[1]}.${s}==`,
    ];
    for (const token of cases) assert.equal((await refusal(verify(token))).reason, 'BadJwt', token);
  });

  test('accepts only the verification methods it is told to', async () => {
    const labeled = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, kid: '#atproto_label', keypair: account });
    assert.ok((await refusal(verify(labeled))) instanceof BadJwtError);
    assert.ok((await refusal(verify(labeled, { keyIds: ['atproto', 'atproto_label'] }))) instanceof BadJwtSignatureError, 'no such key in the document');
  });

  test('a replay guard lets each token through once', async () => {
    const guard = new ServiceJwtReplayGuard();
    const token = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account });
    await verify(token, { replayGuard: guard });
    assert.equal((await refusal(verify(token, { replayGuard: guard }))).reason, 'BadJwt');
  });

  test('a token without jti is good for one use too, whichever spelling of its signature comes back', async () => {
    const guard = new ServiceJwtReplayGuard();
    const nowS = Math.floor(Date.now() / 1000);
    const token = await signClaims(account, { iss: did, aud: AUD, lxm: LXM, iat: nowS, exp: nowS + 60 });
    await verify(token, { replayGuard: guard });
    assert.match((await refusal(verify(token, { replayGuard: guard }))).message, /already been used/);
    assert.match((await refusal(verify(flipS(token), { replayGuard: guard }))).message, /already been used/);
  });

  test('refuses a token issued in the future, beyond a few seconds of clock skew', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    await verify(await signClaims(account, { iss: did, aud: AUD, lxm: LXM, iat: nowS + 4, exp: nowS + 60, jti: 'a' }));
    const err = await refusal(verify(await signClaims(account, { iss: did, aud: AUD, lxm: LXM, iat: nowS + 600, exp: nowS + 660, jti: 'b' })));
    assert.deepEqual([err.reason, err.message], ['BadJwt', 'jwt was issued in the future (iat)']);
  });

  test('refuses a token that lives longer than an hour, accepts one of exactly an hour', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    await verify(await signClaims(account, { iss: did, aud: AUD, lxm: LXM, iat: nowS, exp: nowS + 3600, jti: 'c' }));
    const years = await refusal(verify(await signClaims(account, { iss: did, aud: AUD, lxm: LXM, iat: nowS, exp: nowS + 3 * 365 * 86_400, jti: 'd' })));
    assert.deepEqual([years.reason, years.message], ['BadJwt', 'jwt lifetime is longer than the 3600 s allowed']);
    const noIat = await refusal(verify(await signClaims(account, { iss: did, aud: AUD, lxm: LXM, exp: nowS + 7200, jti: 'e' })));
    assert.deepEqual([noIat.reason, noIat.message], ['BadJwt', 'jwt expires more than 3600 s from now']);
    // Issued long ago with a long life, still unexpired: the lifetime, not just what is left, counts.
    const old = await refusal(verify(await signClaims(account, { iss: did, aud: AUD, lxm: LXM, iat: nowS - 86_400, exp: nowS + 60, jti: 'f' })));
    assert.equal(old.reason, 'BadJwt');
  });

  test('refuses an iss that is not a DID as BadJwtIss', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const err = await refusal(verify(await signClaims(account, { iss: 'alice.example.com', aud: AUD, lxm: LXM, exp: nowS + 60 })));
    assert.deepEqual([err.reason, err.message], ['BadJwtIss', 'jwt iss is not a valid did']);
  });

  test('a full replay guard refuses new tokens instead of forgetting the ones it holds', async () => {
    let nowMs = Date.now();
    const guard = new ServiceJwtReplayGuard({ maxEntries: 3, maxPerIssuer: 2, now: () => nowMs });
    const opts = { replayGuard: guard, now: () => nowMs };
    const tokens = await Promise.all([0, 1, 2].map(() => createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account, now: () => nowMs })));
    await verify(tokens[0], opts);
    await verify(tokens[1], opts);
    // This issuer's share is spent: its third token waits, and the first two stay refused.
    await assert.rejects(verify(tokens[2], opts), (err: unknown) => err instanceof ServiceJwtBusyError && err.scope === 'issuer');
    for (const token of tokens.slice(0, 2)) assert.match((await refusal(verify(token, opts))).message, /already been used/);
    assert.equal(guard.size, 2);
    // Once they expire (60 s and the skew later), their places free up.
    nowMs += 120_000;
    const later = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account, now: () => nowMs });
    await verify(later, opts);
    assert.equal(guard.size, 1);
  });

  test('refuses an issuer whose DID cannot be resolved', async () => {
    const token = await createServiceJwt({ iss: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', aud: AUD, lxm: LXM, keypair: account });
    assert.ok((await refusal(verify(token))) instanceof BadJwtSignatureError);
  });

  test('interoperates with the reference implementation in both directions', async () => {
    const refKeypair = await atprotoCrypto.Secp256k1Keypair.import(account.exportPrivateKey());
    const theirs = await referenceCreate({ iss: did, aud: AUD, lxm: LXM, keypair: refKeypair });
    assert.equal((await verify(theirs)).did, did);
    const ours = await createServiceJwt({ iss: did, aud: AUD, lxm: LXM, keypair: account });
    const payload = await referenceVerify(ours, AUD, LXM, async () => account.did());
    assert.equal(payload.iss, did);
  });
});

describe('minting limits', () => {
  let key: Keypair;
  before(async () => {
    key = await importKeypair('ES256K', '9085d2bef69286a6cbb51623c8fa258629945cd55ca705cc4e66700396894e0c');
  });
  const base = { iss: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz', aud: AUD };
  const now = 1_700_000_000_000;

  test('allows up to an hour with a method, a minute without', async () => {
    await createServiceJwt({ ...base, lxm: LXM, exp: now / 1000 + 3600, keypair: key, now: () => now });
    await createServiceJwt({ ...base, exp: now / 1000 + 60, keypair: key, now: () => now });
    for (const params of [
      { ...base, lxm: LXM, exp: now / 1000 + 3601 },
      { ...base, exp: now / 1000 + 61 },
      { ...base, lxm: LXM, exp: now / 1000 - 1 },
      { ...base, lxm: LXM, exp: now / 1000 + 0.5 },
    ]) {
      await assert.rejects(createServiceJwt({ ...params, keypair: key, now: () => now }), (err: unknown) => err instanceof ServiceJwtParamsError && err.reason === 'BadExpiration');
    }
  });

  test('refuses claims that are not a DID or an NSID', async () => {
    for (const params of [{ ...base, iss: 'alice' }, { ...base, aud: 'https://x' }, { ...base, lxm: 'not an nsid' }]) {
      await assert.rejects(createServiceJwt({ ...params, keypair: key }), (err: unknown) => err instanceof ServiceJwtParamsError && err.reason === 'InvalidRequest');
    }
  });

  test('signs with P-256 keys as ES256', async () => {
    const p256 = await generateKeypair('ES256');
    const token = await createServiceJwt({ ...base, lxm: LXM, keypair: p256 });
    assert.equal(decodePart(token, 0).alg, 'ES256');
    const verified = await verifyServiceJwt(token, { audience: AUD, lxm: LXM, resolveKey: async () => p256.did() });
    assert.equal(verified.did, base.iss);
  });

  test('accepts a legacy iss fragment and reads the labeler key for it', async () => {
    const token = await createServiceJwt({ ...base, iss: `${base.iss}#atproto_labeler`, lxm: LXM, keypair: key });
    const seen: string[] = [];
    const verified = await verifyServiceJwt(token, {
      audience: AUD,
      lxm: LXM,
      keyIds: ['atproto_label'],
      resolveKey: async (iss, { keyId }) => {
        seen.push(`${iss} ${keyId}`);
        return key.did();
      },
    });
    assert.equal(verified.did, base.iss);
    assert.deepEqual(seen, [`${base.iss} atproto_label`]);
  });
});
