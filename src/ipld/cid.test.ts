import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { CidLinkWrapper } from './cbor.ts';
import {
  CidError,
  cidEquals,
  cidForCbor,
  cidForRaw,
  cidFromBytes,
  cidMatchesBytes,
  cidToString,
  isCid,
  linkToCid,
  parseCid,
  toLink,
  tryParseCid,
} from './cid.ts';

const DAG_CBOR_CID = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a';
const RAW_CID = 'bafkreiccldh766hwcnuxnf2wh6jgzepf2nlu2lvcllt63eww5p6chi4ity';

describe('cidForCbor and cidForRaw', () => {
  it('hash with sha-256 and set the codec', () => {
    const bytes = new TextEncoder().encode('hello');
    const digest = createHash('sha256').update(bytes).digest();
    const cbor = cidForCbor(bytes);
    const raw = cidForRaw(bytes);
    assert.equal(cbor.codec, 0x71);
    assert.equal(raw.codec, 0x55);
    assert.deepEqual(Buffer.from(cbor.digest.contents), digest);
    assert.deepEqual(Buffer.from(cbor.bytes.subarray(0, 4)), Buffer.from([0x01, 0x71, 0x12, 0x20]));
    assert.ok(cidToString(cbor).startsWith('bafyrei'));
    assert.ok(cidToString(raw).startsWith('bafkrei'));
  });

  it('match the CID of the empty block', () => {
    // sha-256 of no bytes, wrapped as CIDv1 raw: a well-known constant.
    assert.equal(cidToString(cidForRaw(new Uint8Array(0))), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
  });
});

describe('parseCid', () => {
  it('round-trips dag-cbor and raw CIDs', () => {
    for (const s of [DAG_CBOR_CID, RAW_CID]) assert.equal(cidToString(parseCid(s)), s);
  });

  const rejected: Array<[string, string]> = [
    ['a CIDv0', 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR'],
    ['upper-case base32', 'BAFYREIDFAYVFUWQA7QLNOPDJIQRXZS6BLMOEU4RUJCJTNCI5BELUDIRZ2A'],
    ['base58 multibase', 'zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA'],
    ['a dag-pb CIDv1', 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'],
    ['a truncated CID', DAG_CBOR_CID.slice(0, -1)],
    ['a CID with an extra character', `${DAG_CBOR_CID}a`],
    ['a CID with non-canonical trailing bits', `${DAG_CBOR_CID.slice(0, -1)}b`],
    ['an empty string', ''],
    ['a CID with whitespace', ` ${DAG_CBOR_CID.slice(1)}`],
  ];
  for (const [name, s] of rejected) {
    it(`rejects ${name} with a CidError`, () => {
      assert.throws(() => parseCid(s), CidError);
      assert.equal(tryParseCid(s), null);
    });
  }

  it('rejects a value that is not a string', () => {
    assert.throws(() => parseCid(42 as unknown as string), CidError);
  });
});

describe('binary CIDs and links', () => {
  it('converts between CIDs, bytes and links', () => {
    const cid = parseCid(DAG_CBOR_CID);
    assert.ok(cidEquals(cidFromBytes(cid.bytes), cid));
    const link = toLink(cid);
    assert.ok(link instanceof CidLinkWrapper);
    assert.equal(link.$link, DAG_CBOR_CID);
    assert.ok(cidEquals(linkToCid(link), cid));
    assert.ok(cidEquals(linkToCid({ $link: DAG_CBOR_CID }), cid));
    assert.ok(!cidEquals(cid, parseCid(RAW_CID)));
    assert.ok(isCid(cid));
    assert.ok(!isCid({ $link: DAG_CBOR_CID }));
  });

  it('rejects malformed binary CIDs and links', () => {
    const bytes = parseCid(DAG_CBOR_CID).bytes;
    assert.throws(() => cidFromBytes(bytes.subarray(0, 35)), CidError);
    assert.throws(() => cidFromBytes(Uint8Array.from([...bytes, 0])), CidError);
    assert.throws(() => cidFromBytes(Uint8Array.from([0x01, 0x70, ...bytes.subarray(2)])), CidError);
    assert.throws(() => linkToCid({ $link: 'nope' }), CidError);
  });

  it('checks a block against its CID', () => {
    const block = new TextEncoder().encode('block');
    const cid = cidForCbor(block);
    assert.ok(cidMatchesBytes(cid, block));
    assert.ok(!cidMatchesBytes(cid, new TextEncoder().encode('blocK')));
  });
});
