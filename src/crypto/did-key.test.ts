import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { toBase58Btc } from '@atcute/multibase';
import { decompressPoint, didKeyFromVerificationMethod, formatDidKey, formatMultikey, parseDidKey, parseMultikey } from './did-key.ts';
import { InvalidKeyError } from './errors.ts';
import { generateKeypair } from './keypair.ts';

interface SignatureFixture {
  algorithm: 'ES256' | 'ES256K';
  didDocSuite: string;
  publicKeyDid: string;
  publicKeyMultibase: string;
}
const fixtures: SignatureFixture[] = JSON.parse(readFileSync(new URL('../../../shared/interop/crypto/signature-fixtures.json', import.meta.url), 'utf8'));

describe('did:key parsing and formatting', () => {
  for (const f of fixtures.filter((x, i, all) => all.findIndex((y) => y.publicKeyDid === x.publicKeyDid) === i)) {
    it(`parses and re-formats ${f.publicKeyDid}`, () => {
      const parsed = parseDidKey(f.publicKeyDid);
      assert.equal(parsed.alg, f.algorithm);
      assert.equal(parsed.publicKey.length, 33);
      assert.equal(formatDidKey(parsed.alg, parsed.publicKey), f.publicKeyDid);
      const multikey = formatMultikey(parsed.alg, parsed.publicKey);
      assert.equal(`did:key:${multikey}`, f.publicKeyDid);
      assert.deepEqual(parseMultikey(multikey), parsed);
    });
  }

  it('uses the zQ3s prefix for secp256k1 and zDna for P-256', async () => {
    assert.ok((await generateKeypair('ES256K')).did().startsWith('did:key:zQ3s'));
    assert.ok((await generateKeypair('ES256')).did().startsWith('did:key:zDna'));
  });

  const kp256 = fixtures.find((f) => f.algorithm === 'ES256')!;
  const compressed = parseDidKey(kp256.publicKeyDid).publicKey;
  const rejected: Array<[string, string]> = [
    ['a did:plc', 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'],
    ['a did:key that is not base58btc', `did:key:m${Buffer.from(compressed).toString('base64')}`],
    ['a did:key with invalid base58', 'did:key:z0OIl'],
    ['an ed25519 did:key', `did:key:z${toBase58Btc(Uint8Array.from([0xed, 0x01, ...new Uint8Array(32).fill(1)]))}`],
    ['a did:key holding an uncompressed point', `did:key:z${toBase58Btc(Uint8Array.from([0x80, 0x24, ...decompressPoint(compressed, 'ES256')]))}`],
    ['a did:key with a truncated key', `did:key:z${toBase58Btc(Uint8Array.from([0x80, 0x24, ...compressed.subarray(0, 32)]))}`],
    ['a did:key whose x has no point on P-256', `did:key:z${toBase58Btc(Uint8Array.from([0x80, 0x24, 0x02, ...new Uint8Array(32).fill(0xff)]))}`],
    ['an empty string', ''],
  ];
  for (const [name, didKey] of rejected) {
    it(`rejects ${name} with an InvalidKeyError`, () => {
      assert.throws(() => parseDidKey(didKey), InvalidKeyError);
    });
  }

  it('refuses to format a key that is not a compressed point', () => {
    assert.throws(() => formatDidKey('ES256K', new Uint8Array(65)), InvalidKeyError);
  });
});

describe('didKeyFromVerificationMethod', () => {
  for (const f of fixtures) {
    it(`reads the legacy ${f.didDocSuite} form of ${f.publicKeyDid}`, () => {
      assert.equal(didKeyFromVerificationMethod({ type: f.didDocSuite, publicKeyMultibase: f.publicKeyMultibase }), f.publicKeyDid);
    });
  }

  it('reads the modern Multikey form', () => {
    for (const f of fixtures) {
      const method = { id: '#atproto', type: 'Multikey', controller: 'did:plc:x', publicKeyMultibase: f.publicKeyDid.slice('did:key:'.length) };
      assert.equal(didKeyFromVerificationMethod(method), f.publicKeyDid);
    }
  });

  it('compresses an uncompressed legacy key', () => {
    const f = fixtures.find((x) => x.algorithm === 'ES256K')!;
    const uncompressed = decompressPoint(parseDidKey(f.publicKeyDid).publicKey, 'ES256K');
    assert.equal(didKeyFromVerificationMethod({ type: f.didDocSuite, publicKeyMultibase: `z${toBase58Btc(uncompressed)}` }), f.publicKeyDid);
  });

  it('rejects unknown types, missing keys and a key of the wrong curve for its type', () => {
    const f = fixtures[0];
    assert.throws(() => didKeyFromVerificationMethod({ type: 'Ed25519VerificationKey2020', publicKeyMultibase: f.publicKeyMultibase }), InvalidKeyError);
    assert.throws(() => didKeyFromVerificationMethod({ type: 'Multikey' }), InvalidKeyError);
    assert.throws(() => didKeyFromVerificationMethod({ type: 'Multikey', publicKeyMultibase: f.publicKeyMultibase }), InvalidKeyError);
    const r1 = fixtures.find((x) => x.didDocSuite === 'EcdsaSecp256r1VerificationKey2019')!;
    // A P-256 key filed under the secp256k1 type: rejected if its x is off that curve, and in any
    // case never mistaken for the P-256 did:key.
    let asK1: string | undefined;
    try {
      asK1 = didKeyFromVerificationMethod({ type: 'EcdsaSecp256k1VerificationKey2019', publicKeyMultibase: r1.publicKeyMultibase });
    } catch (err) {
      assert.ok(err instanceof InvalidKeyError);
    }
    assert.notEqual(asK1, r1.publicKeyDid);
  });
});
