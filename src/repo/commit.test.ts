import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secp256k1Keypair } from '@atproto/crypto';
import { cborEncode } from '@atproto/lex-cbor';
import { parseCid as parseAtprotoCid } from '@atproto/lex-data';
import { signCommit as atprotoSignCommit, verifyCommitSig } from '@atproto/repo';
import { encode as atcuteEncode, toBytes } from '@atcute/cbor';
import { generateKeypair } from '../crypto/index.ts';
import { cidForCbor, cidToString, toLink } from '../ipld/cid.ts';
import { decodeCommit, encodeCommit, encodeUnsignedCommit, signCommit, verifyCommitSignature, type Commit } from './commit.ts';
import { InvalidCommitError } from './errors.ts';

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const data = cidForCbor(new TextEncoder().encode('an MST root'));
const rev = '3lbkuudsw6k2e';
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('commits', () => {
  for (const alg of ['ES256K', 'ES256'] as const) {
    it(`signs a version 3 commit with an ${alg} key that verifies and decodes back`, async () => {
      const keypair = await generateKeypair(alg);
      const signed = await signCommit({ did, data, rev }, keypair);
      assert.equal(cidToString(signed.cid), cidToString(cidForCbor(signed.bytes)));
      const back = decodeCommit(signed.bytes);
      assert.deepEqual(
        { ...back, data: cidToString(back.data), sig: hex(back.sig) },
        { ...signed.commit, data: cidToString(data), sig: hex(signed.commit.sig) },
      );
      assert.equal(back.version, 3);
      assert.equal(back.prev, null);
      assert.equal(await verifyCommitSignature(back, keypair.did()), true);
      const other = await generateKeypair(alg);
      assert.equal(await verifyCommitSignature(back, other.did()), false);
      assert.equal(await verifyCommitSignature({ ...back, rev: '3lbkuudsw6k2f' }, keypair.did()), false);
    });
  }

  it('signs exactly the bytes @atproto/repo signs, and each side verifies the other', async () => {
    const ours = await generateKeypair('ES256K');
    const theirs = await Secp256k1Keypair.import(ours.exportPrivateKey());
    const unsigned = { did, version: 3 as const, data: parseAtprotoCid(cidToString(data)), rev, prev: null };
    assert.equal(hex(encodeUnsignedCommit({ did, version: 3, data, rev, prev: null })), hex(cborEncode(unsigned)));
    // their signature is deterministic (RFC 6979) and ours is not, so compare by verifying
    const theirCommit = await atprotoSignCommit(unsigned, theirs);
    const decoded = decodeCommit(cborEncode(theirCommit));
    assert.equal(await verifyCommitSignature(decoded, ours.did()), true);
    const signed = await signCommit({ did, data, rev }, ours);
    const asTheirs = { ...unsigned, sig: new Uint8Array(signed.commit.sig) };
    assert.equal(await verifyCommitSig(asTheirs, theirs.did()), true);
    assert.equal(hex(cborEncode(asTheirs)), hex(signed.bytes));
  });

  it('writes the bytes the generic DAG-CBOR encoder writes, for every shape of commit', () => {
    const prevCid = cidForCbor(new TextEncoder().encode('an older commit'));
    const dids = ['did:plc:ewvi7nxzyoun6zhxrhs64oiz', 'did:web:a.b', `did:web:${'x'.repeat(250)}.example`, `did:web:${'y'.repeat(300)}.example`];
    const sigs = [new Uint8Array(64).fill(0xab), new Uint8Array(0), new Uint8Array(23).fill(1), new Uint8Array(300).fill(2)];
    let checked = 0;
    for (const d of dids) {
      for (const version of [3, 2] as const) {
        for (const prev of [null, prevCid]) {
          const unsigned = { did: d, version, data, rev, prev };
          const generic = { did: d, version, data: toLink(data), rev, prev: prev === null ? null : toLink(prev) };
          assert.equal(hex(encodeUnsignedCommit(unsigned)), hex(atcuteEncode(generic)));
          for (const sig of sigs) {
            assert.equal(hex(encodeCommit({ ...unsigned, sig })), hex(atcuteEncode({ ...generic, sig: toBytes(sig) })));
            checked++;
          }
        }
      }
    }
    assert.equal(checked, 64);
  });

  const valid = { did, version: 3, data: toLink(data), rev, prev: null, sig: toBytes(new Uint8Array(64)) };
  const broken: Array<[string, unknown]> = [
    ['version 4', { ...valid, version: 4 }],
    ['a missing prev', (({ prev: _prev, ...rest }) => rest)(valid)],
    ['an extra field', { ...valid, extra: 1 }],
    ['a rev that is not a TID', { ...valid, rev: '2024-01-01' }],
    ['a DID that is not one', { ...valid, did: 'alice' }],
    ['data that is a string', { ...valid, data: cidToString(data) }],
    ['a sig that is a string', { ...valid, sig: 'abc' }],
    ['no sig', (({ sig: _sig, ...rest }) => rest)(valid)],
  ];
  for (const [what, value] of broken) {
    it(`rejects a commit with ${what}`, () => {
      assert.throws(() => decodeCommit(atcuteEncode(value)), InvalidCommitError);
    });
  }

  it('rejects a commit block that is not DAG-CBOR or not a map', () => {
    assert.throws(() => decodeCommit(new Uint8Array([0xff])), InvalidCommitError);
    assert.throws(() => decodeCommit(atcuteEncode([1, 2])), InvalidCommitError);
  });

  it('reads a version 2 commit with a prev link, for old repositories', () => {
    const commit = decodeCommit(atcuteEncode({ ...valid, version: 2, prev: toLink(data) })) as Commit;
    assert.equal(commit.version, 2);
    assert.equal(cidToString(commit.prev!), cidToString(data));
  });
});
