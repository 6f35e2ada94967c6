import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromBase58Btc } from '@atcute/multibase';
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto';
import { P256, SECP256K1 } from './curves.ts';
import { parseDidKey } from './did-key.ts';
import { InvalidKeyError } from './errors.ts';
import { generateKeypair, importKeypair } from './keypair.ts';
import { verifySignatureSync } from './verify.ts';

const vectors = (name: string) => JSON.parse(readFileSync(new URL(`../../../shared/interop/crypto/${name}`, import.meta.url), 'utf8'));
const k256: Array<{ privateKeyBytesHex: string; publicDidKey: string }> = vectors('w3c_didkey_K256.json');
const p256: Array<{ privateKeyBytesBase58: string; publicDidKey: string }> = vectors('w3c_didkey_P256.json');

describe('interop did:key vectors', () => {
  for (const v of k256) {
    it(`derives ${v.publicDidKey} from its secp256k1 private key`, async () => {
      assert.equal((await importKeypair('ES256K', v.privateKeyBytesHex)).did(), v.publicDidKey);
    });
  }
  for (const v of p256) {
    it(`derives ${v.publicDidKey} from its P-256 private key`, async () => {
      assert.equal((await importKeypair('ES256', fromBase58Btc(v.privateKeyBytesBase58))).did(), v.publicDidKey);
    });
  }
});

const halfOrderHex = (order: Uint8Array) => (BigInt(`0x${Buffer.from(order).toString('hex')}`) >> 1n).toString(16).padStart(64, '0');

for (const [alg, curve] of [['ES256K', SECP256K1], ['ES256', P256]] as const) {
  describe(`${alg} keypairs`, () => {
    it('always sign low-S 64-byte signatures that verify', async () => {
      const kp = await generateKeypair(alg);
      const half = halfOrderHex(curve.order);
      for (let i = 0; i < 200; i++) {
        const msg = new TextEncoder().encode(`message ${i}`);
        const sig = await kp.sign(msg);
        assert.equal(sig.length, 64);
        assert.ok(Buffer.from(sig.subarray(32)).toString('hex') <= half, 'low-S');
        assert.ok(verifySignatureSync(kp.did(), msg, sig));
      }
    });

    it('export a private key that imports to the same did:key, as bytes or hex', async () => {
      const kp = await generateKeypair(alg);
      const priv = kp.exportPrivateKey();
      assert.equal(priv.length, 32);
      assert.equal((await importKeypair(alg, priv)).did(), kp.did());
      assert.equal((await importKeypair(alg, Buffer.from(priv).toString('hex'))).did(), kp.did());
      assert.deepEqual(parseDidKey(kp.did()), { alg, publicKey: kp.publicKey() });
    });

    it('derive the same did:key as @atproto/crypto from the same private key', async () => {
      const theirs = alg === 'ES256K' ? await Secp256k1Keypair.create({ exportable: true }) : await P256Keypair.create({ exportable: true });
      const ours = await importKeypair(alg, await theirs.export());
      assert.equal(ours.did(), theirs.did());
    });

    it('reject private keys that are not valid scalars', async () => {
      await assert.rejects(importKeypair(alg, new Uint8Array(31)), InvalidKeyError);
      await assert.rejects(importKeypair(alg, new Uint8Array(32)), InvalidKeyError);
      await assert.rejects(importKeypair(alg, curve.order), InvalidKeyError);
      await assert.rejects(importKeypair(alg, 'zz'.repeat(32)), InvalidKeyError);
      await assert.rejects(importKeypair(alg, 'ab'.repeat(31)), InvalidKeyError);
    });

    it('keep the private key out of JSON', async () => {
      const kp = await generateKeypair(alg);
      const json = JSON.stringify(kp);
      assert.ok(!json.includes(Buffer.from(kp.exportPrivateKey()).toString('hex')));
      assert.deepEqual(JSON.parse(json), { alg, did: kp.did() });
    });
  });
}

describe('generateKeypair', () => {
  it('defaults to secp256k1', async () => {
    const kp = await generateKeypair();
    assert.equal(kp.alg, 'ES256K');
    assert.ok(kp.did().startsWith('did:key:zQ3s'));
  });

  it('imports a scalar with leading zero bytes', async () => {
    const scalar = new Uint8Array(32);
    scalar[31] = 7;
    const kp = await importKeypair('ES256K', scalar);
    assert.deepEqual([...kp.exportPrivateKey()], [...scalar]);
    const msg = new Uint8Array([1]);
    assert.ok(verifySignatureSync(kp.did(), msg, await kp.sign(msg)));
  });
});
