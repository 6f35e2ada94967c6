import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encode as atcuteEncode, toBytes } from '@atcute/cbor';
import { CidLinkWrapper } from '@atcute/cid';
import { MalformedNodeError } from './errors.ts';
import { linkForCbor, type Link } from './link.ts';
import { decodeNode, emptyNode, encodeNode, MstNode } from './node.ts';

const enc = new TextEncoder();
const leaf = (i: number): Link => linkForCbor(enc.encode(`record ${i}`));
const sub = (i: number): Link => linkForCbor(enc.encode(`node ${i}`));

/** The node as the generic data model (spec field names, compressed keys), for a reference encoder. */
function asDataModel(node: MstNode) {
  let prev = '';
  return {
    l: node.kids[0] === null ? null : (node.kids[0] as Link),
    e: node.keys.map((key, i) => {
      let p = 0;
      while (p < prev.length && p < key.length && prev[p] === key[p]) p++;
      prev = key;
      return { p, k: toBytes(enc.encode(key.slice(p))), v: node.vals[i], t: node.kids[i + 1] as Link | null };
    }),
  };
}

function sampleNodes(): MstNode[] {
  const long = 'com.example.collection/' + 'x'.repeat(300);
  return [
    emptyNode(),
    new MstNode(['a/b'], [leaf(1)], [null, null]),
    new MstNode(['app.bsky.feed.post/3jzfcijpj2z2a', 'app.bsky.feed.post/3jzfcijpj2z2b', 'app.bsky.feed.repost/3jzfcijpj2z2c'], [leaf(1), leaf(2), leaf(3)], [sub(0), null, sub(2), sub(3)]),
    new MstNode([], [], [sub(9)]),
    // lengths past the one-byte CBOR forms: a 300-byte key suffix, 30 entries
    new MstNode([long], [leaf(7)], [null, sub(1)]),
    new MstNode(
      Array.from({ length: 30 }, (_, i) => `coll/k${String(i).padStart(3, '0')}`),
      Array.from({ length: 30 }, (_, i) => leaf(i)),
      Array.from({ length: 31 }, (_, i) => (i % 3 === 0 ? sub(i) : null)),
    ),
  ];
}

describe('MST node encoding', () => {
  it('writes the same bytes as a generic DAG-CBOR encoder given the spec schema', () => {
    for (const node of sampleNodes()) {
      assert.deepEqual(encodeNode(node), atcuteEncode(asDataModel(node)));
    }
  });

  it('the empty node is the well-known empty tree CID', () => {
    assert.equal(emptyNode().cid.$link, 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm');
  });

  it('decodes what it encodes, keys decompressed and links intact', () => {
    for (const node of sampleNodes()) {
      const back = decodeNode(node.bytes);
      assert.deepEqual(back.keys, node.keys);
      assert.deepEqual(back.vals.map((v) => v.$link), node.vals.map((v) => v.$link));
      assert.deepEqual(back.kids.map((k) => (k === null ? null : (k as Link).$link)), node.kids.map((k) => (k === null ? null : (k as Link).$link)));
      assert.equal(back.cid.$link, node.cid.$link);
    }
  });

  it('keeps record links of any CIDv1 form, as the spec asks of leaves', () => {
    const rawSha512 = new Uint8Array([1, 0x55, 0x13, 64, ...new Uint8Array(64).fill(7)]);
    const node = new MstNode(['a/b'], [new CidLinkWrapper(rawSha512)], [null, null]);
    assert.deepEqual(decodeNode(node.bytes).vals[0].bytes, rawSha512);
  });

  const rejects: Array<[string, () => unknown]> = [
    ['fields in the wrong order', () => atcuteEncode({ e: [], l: null, x: 1 })],
    ['a missing l', () => atcuteEncode({ e: [] })],
    ['an entry without t', () => atcuteEncode({ e: [{ k: toBytes(enc.encode('a/b')), p: 0, v: leaf(1) }], l: null })],
    ['keys out of order', () => atcuteEncode(asDataModelUnchecked(['b/b', 'a/b']))],
    ['a duplicate key', () => atcuteEncode(asDataModelUnchecked(['a/b', 'a/b']))],
    ['a prefix shorter than the keys share', () => atcuteEncode({ l: null, e: [entry('a/b', 0), entry('a/c', 0)] })],
    ['a first entry with a prefix', () => atcuteEncode({ l: null, e: [entry('/b', 1)] })],
    ['a key outside the path alphabet', () => atcuteEncode({ l: null, e: [entry('a/b c', 0)] })],
    ['a subtree link that is not dag-cbor', () => atcuteEncode({ l: new CidLinkWrapper(new Uint8Array([1, 0x55, 0x12, 32, ...new Uint8Array(32)])), e: [] })],
    ['a null value', () => atcuteEncode({ l: null, e: [{ k: toBytes(enc.encode('a/b')), p: 0, t: null, v: null }] })],
    ['trailing bytes', () => new Uint8Array([...emptyNode().bytes, 0])],
    ['a truncated block', () => sampleNodes()[2].bytes.subarray(0, 50)],
    ['a non-minimal array length', () => new Uint8Array([0xa2, 0x61, 0x65, 0x98, 0x00, 0x61, 0x6c, 0xf6])],
  ];
  for (const [what, build] of rejects) {
    it(`rejects a node with ${what}`, () => {
      assert.throws(() => decodeNode(build() as Uint8Array), MalformedNodeError);
    });
  }
});

function entry(key: string, p: number) {
  return { k: toBytes(enc.encode(key.slice(p))), p, t: null, v: leaf(0) };
}

function asDataModelUnchecked(keys: string[]) {
  return { l: null, e: keys.map((key) => entry(key, 0)) };
}
