import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Secp256k1Keypair, verifySignature as refVerifySignature } from '@atproto/crypto';
import { SECP256K1 } from './curves.ts';
import { importKeypairSync, importOpenSslKeypairSync } from './keypair.ts';
import { secp256k1Backend } from './secp256k1-native.ts';
import { verifySignatureOpenSsl, verifySignatureSync } from './verify.ts';

interface SignatureFixture {
  comment: string;
  messageBase64: string;
  algorithm: 'ES256' | 'ES256K';
  publicKeyDid: string;
  signatureBase64: string;
  validSignature: boolean;
}

const fixtures: SignatureFixture[] = JSON.parse(readFileSync(new URL('../../../shared/interop/crypto/signature-fixtures.json', import.meta.url), 'utf8'));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const halfOrder = SECP256K1.orderBig >> 1n;
const sOf = (sig: Uint8Array) => BigInt(`0x${Buffer.from(sig.subarray(32)).toString('hex')}`);

function highSTwin(sig: Uint8Array): Uint8Array {
  const out = Uint8Array.from(sig);
  out.set(Buffer.from((SECP256K1.orderBig - sOf(sig)).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

describe('libsecp256k1 backend', () => {
  it('loads from the prebuilt binary on linux-x64 (the platform Squall is benchmarked and tested on)', (t) => {
    if (process.platform !== 'linux' || process.arch !== 'x64') return t.skip('no prebuilt binary is promised here');
    assert.equal(secp256k1Backend().kind, 'libsecp256k1', secp256k1Backend().kind === 'node:crypto' ? (secp256k1Backend() as { reason: string }).reason : '');
  });

  it('gives every interop signature fixture the expected answer, as OpenSSL does', () => {
    for (const f of fixtures) {
      const msg = b64(f.messageBase64);
      const sig = b64(f.signatureBase64);
      assert.equal(verifySignatureSync(f.publicKeyDid, msg, sig), f.validSignature, f.comment);
      assert.equal(verifySignatureOpenSsl(f.publicKeyDid, msg, sig), f.validSignature, f.comment);
    }
  });

  it('signs low-S and refuses the high-S twin of each of 500 signatures', () => {
    const kp = importKeypairSync('ES256K', randomBytes(32));
    for (let i = 0; i < 500; i++) {
      const msg = randomBytes(1 + (i % 300));
      const sig = kp.signSync(msg);
      assert.equal(sig.length, 64);
      assert.ok(sOf(sig) <= halfOrder, 'low-S');
      assert.ok(verifySignatureSync(kp.did(), msg, sig));
      assert.equal(verifySignatureSync(kp.did(), msg, highSTwin(sig)), false);
    }
  });

  it('signs exactly the bytes @atproto/crypto signs (RFC 6979 nonces, low-S), for 200 random keys and messages', async () => {
    for (let i = 0; i < 200; i++) {
      const theirs = await Secp256k1Keypair.create({ exportable: true });
      const ours = importKeypairSync('ES256K', await theirs.export());
      assert.equal(ours.did(), theirs.did());
      const msg = randomBytes(1 + ((i * 37) % 400));
      const ourSig = ours.signSync(msg);
      const theirSig = await theirs.sign(msg);
      assert.deepEqual(Buffer.from(ourSig), Buffer.from(theirSig));
    }
  });

  it('verifies @atproto/crypto signatures and is verified by it, both ways, for 100 random keys and messages', async () => {
    for (let i = 0; i < 100; i++) {
      const theirs = await Secp256k1Keypair.create({ exportable: true });
      const ours = importKeypairSync('ES256K', randomBytes(32));
      const msg = randomBytes(1 + ((i * 53) % 500));
      const theirSig = await theirs.sign(msg);
      const ourSig = ours.signSync(msg);
      assert.ok(verifySignatureSync(theirs.did(), msg, theirSig));
      assert.ok(await refVerifySignature(ours.did(), msg, ourSig));
      // and a signature over another message, or by another key, fails in both
      const other = randomBytes(msg.length + 1);
      assert.equal(verifySignatureSync(theirs.did(), other, theirSig), false);
      assert.equal(await refVerifySignature(ours.did(), other, ourSig), false);
      assert.equal(verifySignatureSync(ours.did(), msg, theirSig), false);
    }
  });

  it('agrees with the OpenSSL signer and verifier on the same keys', () => {
    for (let i = 0; i < 100; i++) {
      const scalar = randomBytes(32);
      const native = importKeypairSync('ES256K', scalar);
      const openssl = importOpenSslKeypairSync('ES256K', scalar);
      assert.equal(native.did(), openssl.did());
      assert.deepEqual(native.publicKey(), openssl.publicKey());
      const msg = randomBytes(64);
      assert.ok(verifySignatureOpenSsl(native.did(), msg, native.signSync(msg)));
      assert.ok(verifySignatureSync(openssl.did(), msg, openssl.signSync(msg)));
      const twin = highSTwin(native.signSync(msg));
      assert.equal(verifySignatureOpenSsl(native.did(), msg, twin), false);
    }
  });

  it('refuses private scalars outside [1, n-1] like the OpenSSL path', () => {
    for (const bad of [new Uint8Array(32), Uint8Array.from(SECP256K1.order)]) {
      assert.throws(() => importKeypairSync('ES256K', bad), /not a valid ES256K scalar/);
      assert.throws(() => importOpenSslKeypairSync('ES256K', bad), /not a valid ES256K scalar/);
    }
  });
});
