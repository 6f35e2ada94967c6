import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { P256Keypair, Secp256k1Keypair, verifySignature as refVerifySignature } from '@atproto/crypto';
import { P256, SECP256K1 } from './curves.ts';
import { InvalidKeyError } from './errors.ts';
import { generateKeypair } from './keypair.ts';
import { clearVerifyKeyCache, verifySignature, verifySignatureSync } from './verify.ts';

interface SignatureFixture {
  comment: string;
  messageBase64: string;
  algorithm: 'ES256' | 'ES256K';
  publicKeyDid: string;
  signatureBase64: string;
  validSignature: boolean;
  tags: string[];
}
const fixtures: SignatureFixture[] = JSON.parse(readFileSync(new URL('../../../shared/interop/crypto/signature-fixtures.json', import.meta.url), 'utf8'));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('interop signature fixtures', () => {
  for (const f of fixtures) {
    it(`${f.validSignature ? 'accepts' : 'rejects'}: ${f.comment}`, async () => {
      assert.equal(await verifySignature(f.publicKeyDid, b64(f.messageBase64), b64(f.signatureBase64)), f.validSignature);
    });
  }

  it('covers both curves, high-S and DER cases', () => {
    assert.deepEqual(new Set(fixtures.map((f) => f.algorithm)), new Set(['ES256', 'ES256K']));
    assert.ok(fixtures.some((f) => f.tags.includes('high-s')));
    assert.ok(fixtures.some((f) => f.tags.includes('der-encoded')));
  });
});

/** The high-S twin (r, n - s) of a signature: mathematically valid, forbidden by atproto. */
function highSTwin(sig: Uint8Array, order: bigint): Uint8Array {
  const s = BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`);
  const out = Uint8Array.from(sig);
  out.set(Buffer.from((order - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

for (const [alg, curve] of [['ES256K', SECP256K1], ['ES256', P256]] as const) {
  describe(`verifySignature with ${alg}`, () => {
    const msg = new TextEncoder().encode('the commit bytes');

    it('accepts its own signatures and rejects a changed message or another key', async () => {
      const kp = await generateKeypair(alg);
      const other = await generateKeypair(alg);
      const sig = await kp.sign(msg);
      assert.ok(await verifySignature(kp.did(), msg, sig));
      assert.equal(await verifySignature(kp.did(), new TextEncoder().encode('the commit bytez'), sig), false);
      assert.equal(await verifySignature(other.did(), msg, sig), false);
    });

    it('rejects the high-S twin of a valid signature', async () => {
      const kp = await generateKeypair(alg);
      const sig = await kp.sign(msg);
      assert.equal(verifySignatureSync(kp.did(), msg, highSTwin(sig, curve.orderBig)), false);
    });

    it('rejects signatures of the wrong length, zero halves and r out of range', async () => {
      const kp = await generateKeypair(alg);
      const sig = await kp.sign(msg);
      assert.equal(verifySignatureSync(kp.did(), msg, sig.subarray(0, 63)), false);
      assert.equal(verifySignatureSync(kp.did(), msg, Uint8Array.from([...sig, 0])), false);
      assert.equal(verifySignatureSync(kp.did(), msg, new Uint8Array(64)), false);
      const zeroS = Uint8Array.from(sig);
      zeroS.fill(0, 32);
      assert.equal(verifySignatureSync(kp.did(), msg, zeroS), false);
      const bigR = Uint8Array.from(sig);
      bigR.set(curve.order, 0);
      assert.equal(verifySignatureSync(kp.did(), msg, bigR), false);
    });

    it('agrees with @atproto/crypto in both directions', async () => {
      const ours = await generateKeypair(alg);
      const ourSig = await ours.sign(msg);
      assert.ok(await refVerifySignature(ours.did(), msg, ourSig));
      const theirs = alg === 'ES256K' ? await Secp256k1Keypair.create({ exportable: true }) : await P256Keypair.create({ exportable: true });
      assert.ok(await verifySignature(theirs.did(), msg, await theirs.sign(msg)));
    });
  });
}

describe('verifySignature key handling', () => {
  it('throws InvalidKeyError for a malformed did:key instead of returning false', async () => {
    await assert.rejects(verifySignature('did:key:zNope', new Uint8Array(1), new Uint8Array(64)), InvalidKeyError);
    await assert.rejects(verifySignature('did:plc:abc', new Uint8Array(1), new Uint8Array(64)), InvalidKeyError);
  });

  it('gives the same answers after the key cache is cleared', async () => {
    const f = fixtures.find((x) => x.validSignature)!;
    assert.ok(verifySignatureSync(f.publicKeyDid, b64(f.messageBase64), b64(f.signatureBase64)));
    clearVerifyKeyCache();
    assert.ok(verifySignatureSync(f.publicKeyDid, b64(f.messageBase64), b64(f.signatureBase64)));
  });
});
