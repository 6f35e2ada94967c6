import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBlockstore, Repo, WriteOpAction, getFullRepo, verifyRepoCar as atprotoVerifyRepoCar } from '@atproto/repo';
import { Secp256k1Keypair } from '@atproto/crypto';
import { encode as atcuteEncode, toBytes } from '@atcute/cbor';
import { generateKeypair, type Keypair } from '../crypto/index.ts';
import { encodeCbor } from '../ipld/cbor.ts';
import { carBytesSync, type CarBlockBytes } from '../ipld/car.ts';
import { cidForCbor, cidToString, parseCid, type Cid } from '../ipld/cid.ts';
import { keyHeight, linkForCbor, Mst, MstNode, type Link } from '../ipld/mst/index.ts';
import { MemoryBlockStore } from './block-store.ts';
import { signCommit } from './commit.ts';
import { BadCommitSignatureError, CommitDidMismatchError, InvalidCommitProofError, RepoVerificationError } from './errors.ts';
import { verifyCommitProof, verifyRepoCar, type ProofOp } from './verify.ts';
import { applyWriteBatch, type RecordWrite, type WriteBatchResult } from './write-batch.ts';

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const post = (text: string) => ({ $type: 'app.bsky.feed.post', text, createdAt: '2024-01-01T00:00:00.000Z' });
/** The first repo path `com.example.tree/<prefix><n>` whose MST height is `height`. */
function pathOfHeight(height: number, prefix: string): string {
  for (let n = 0; ; n++) {
    const path = `com.example.tree/${prefix}${n}`;
    if (keyHeight(path) === height) return path;
  }
}
// Three valid repo paths in this order: A0 < A1 < B0, of heights 0, 1 and 0.
const A0 = pathOfHeight(0, 'a');
const A1 = pathOfHeight(1, 'b');
const B0 = pathOfHeight(0, 'c');
const car = (root: Cid, blocks: Map<string, Uint8Array>) => carBytesSync(root, [...blocks].map(([cid, bytes]) => ({ cid: parseCid(cid), bytes })));
/** The CAR of a `#commit` event's blocks, as the sequencer writes it. */
const eventCar = (root: Cid, blocks: Map<string, CarBlockBytes>) => carBytesSync(root, blocks.values());

/** A repo built with our write path, exported as a CAR (commit first, then the tree in order). */
async function buildRepo(keypair: Keypair, count: number) {
  const store = new MemoryBlockStore();
  let prev: WriteBatchResult | null = null;
  for (let start = 0; start < count; start += 100) {
    const writes: RecordWrite[] = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      writes.push({ action: 'create', collection: i % 2 ? 'app.bsky.feed.post' : 'app.bsky.feed.like', rkey: `r${i.toString(36).padStart(4, '0')}`, record: post(`post ${i}`) });
    }
    const result: WriteBatchResult = await applyWriteBatch({
      did,
      keypair,
      prev: prev && { cid: prev.cid, rev: prev.rev, data: prev.commit.data },
      blocks: store,
      writes,
    });
    store.putMany(result.newBlocks, result.rev);
    store.deleteMany(result.orphaned);
    prev = result;
  }
  const blocks = new Map<string, Uint8Array>([[cidToString(prev!.cid), prev!.bytes]]);
  for (const block of Mst.load(store, prev!.commit.data).blocks()) blocks.set(block.cid.$link, store.get(block.cid.$link)!);
  return { head: prev!, blocks, car: car(prev!.cid, blocks) };
}

/** A CAR of a hand-made tree under a validly signed commit, to test the tree checks alone. */
async function signedCar(keypair: Keypair, root: MstNode, nodes: MstNode[], records: Map<string, Uint8Array>) {
  const signed = await signCommit({ did, data: parseCid(root.cid.$link), rev: '3lbkuudsw6k2e' }, keypair);
  const blocks = new Map<string, Uint8Array>([[cidToString(signed.cid), signed.bytes]]);
  for (const node of [root, ...nodes]) blocks.set(node.cid.$link, node.bytes);
  for (const [cid, bytes] of records) blocks.set(cid, bytes);
  return car(signed.cid, blocks);
}

function record(text: string): [Link, Map<string, Uint8Array>] {
  const bytes = encodeCbor(post(text)).slice();
  const link = linkForCbor(bytes);
  return [link, new Map([[link.$link, bytes]])];
}

describe('repository verification', () => {
  it('verifies a repo we exported and returns its records and blocks', async () => {
    const keypair = await generateKeypair('ES256K');
    const { head, blocks, car: bytes } = await buildRepo(keypair, 250);
    const verified = await verifyRepoCar(bytes, { did, didKey: keypair.did() });
    assert.equal(verified.records.length, 250);
    assert.equal(cidToString(verified.cid), cidToString(head.cid));
    assert.equal(verified.commit.rev, head.rev);
    assert.deepEqual(new Set(verified.blocks.keys()), new Set(blocks.keys()));
    const paths = verified.records.map((r) => r.path);
    assert.deepEqual(paths, paths.slice().sort());
  });

  it('@atproto/repo reads and verifies the CARs we export', async () => {
    const keypair = await generateKeypair('ES256K');
    const { head, car: bytes } = await buildRepo(keypair, 300);
    const theirs = await atprotoVerifyRepoCar(bytes, did, keypair.did());
    assert.equal(theirs.creates.length, 300);
    assert.equal(theirs.commit.rev, head.rev);
    assert.equal(theirs.commit.cid.toString(), cidToString(head.cid));
    const ours = await verifyRepoCar(bytes, { did, didKey: keypair.did() });
    assert.deepEqual(
      theirs.creates.map((c) => [`${c.collection}/${c.rkey}`, c.cid.toString()]).sort(),
      ours.records.map((r) => [r.path, r.cid]).sort(),
    );
  });

  it('verifies the CARs @atproto/repo writes', async () => {
    const theirKey = await Secp256k1Keypair.create({ exportable: true });
    const storage = new MemoryBlockstore();
    let repo = await Repo.create(storage, did, theirKey);
    for (let batch = 0; batch < 3; batch++) {
      repo = await repo.applyWrites(
        Array.from({ length: 100 }, (_, i) => ({ action: WriteOpAction.Create, collection: 'app.bsky.feed.post', rkey: `b${batch}i${i}`, record: post(`${batch}/${i}`) })),
        theirKey,
      );
    }
    const chunks: Uint8Array[] = [];
    for await (const chunk of getFullRepo(storage, repo.cid)) chunks.push(chunk);
    // as a stream of chunks, the way an import reads an upload
    const verified = await verifyRepoCar(chunks, { did, didKey: theirKey.did() });
    assert.equal(verified.records.length, 300);
    assert.equal(cidToString(verified.commit.data), repo.commit.data.toString());
    for (const r of verified.records) assert.equal(r.cid, cidToString(cidForCbor(r.bytes)));
  });

  it('rejects a commit signed by another key, or for another DID', async () => {
    const keypair = await generateKeypair('ES256K');
    const { car: bytes } = await buildRepo(keypair, 10);
    const other = await generateKeypair('ES256K');
    await assert.rejects(verifyRepoCar(bytes, { did, didKey: other.did() }), BadCommitSignatureError);
    await assert.rejects(verifyRepoCar(bytes, { did: 'did:plc:someoneelse', didKey: keypair.did() }), CommitDidMismatchError);
  });

  it('rejects a CAR whose block does not match its CID', async () => {
    const keypair = await generateKeypair('ES256K');
    const { car: bytes } = await buildRepo(keypair, 10);
    const tampered = Uint8Array.from(bytes);
    tampered[tampered.length - 3] ^= 1; // inside the last block
    await assert.rejects(verifyRepoCar(tampered, { did, didKey: keypair.did() }), RepoVerificationError);
  });

  it('rejects a repo with a missing MST node or record block', async () => {
    const keypair = await generateKeypair('ES256K');
    const { head, blocks } = await buildRepo(keypair, 200);
    const mst = Mst.load({ get: (c) => blocks.get(c) }, head.commit.data);
    const all = [...mst.blocks()];
    const node = all.find((b, i) => i > 0 && b.kind === 'node')!;
    const leaf = all.find((b) => b.kind === 'record')!;
    for (const missing of [node.cid.$link, leaf.cid.$link]) {
      const partial = new Map(blocks);
      partial.delete(missing);
      await assert.rejects(verifyRepoCar(car(head.cid, partial), { did, didKey: keypair.did() }), RepoVerificationError);
    }
  });

  it('rejects trees that break MST rules even when every CID and the signature are right', async () => {
    const keypair = await generateKeypair('ES256K');
    const [value, records] = record('x');
    const cases: Array<[string, MstNode, MstNode[], RegExp]> = [];
    // a subtree hung on the wrong side of its parent's key: each node sorted, the tree not
    const misplaced = new MstNode([B0], [value], [null, null]);
    cases.push(['keys out of order across nodes', new MstNode([A1], [value], [misplaced, null]), [misplaced], /out of order/]);
    // keys of different heights side by side
    cases.push(['a key at the wrong layer', new MstNode([A0, A1], [value, value], [null, null, null]), [], /height 1 at layer 0/]);
    // an empty node below the root
    const empty = new MstNode([], [], [null]);
    cases.push(['an empty node below the root', new MstNode([A1], [value], [empty, null]), [empty], /empty node below the root/]);
    // a root that holds only a subtree was never trimmed
    const inner = new MstNode([A1], [value], [null, null]);
    cases.push(['an untrimmed root', new MstNode([], [], [inner]), [inner], /root has no entries/]);
    for (const [what, root, nodes, reason] of cases) {
      await assert.rejects(
        verifyRepoCar(await signedCar(keypair, root, nodes, records), { did, didKey: keypair.did() }),
        (err) => err instanceof RepoVerificationError && reason.test(err.message),
        what,
      );
    }
    // and a node whose own keys are unsorted
    const unsorted = atcuteEncode({
      e: [
        { k: toBytes(new TextEncoder().encode(B0)), p: 0, t: null, v: value },
        { k: toBytes(new TextEncoder().encode(A0)), p: 0, t: null, v: value },
      ],
      l: null,
    });
    const signed = await signCommit({ did, data: cidForCbor(unsorted), rev: '3lbkuudsw6k2e' }, keypair);
    const blocks = new Map([[cidToString(signed.cid), signed.bytes], [cidToString(cidForCbor(unsorted)), unsorted], ...records]);
    await assert.rejects(verifyRepoCar(car(signed.cid, blocks), { did, didKey: keypair.did() }), RepoVerificationError);
  });

  it('rejects a record that is not a DAG-CBOR map', async () => {
    const keypair = await generateKeypair('ES256K');
    const bytes = atcuteEncode('just a string');
    const value = linkForCbor(bytes);
    const root = new MstNode([A1], [value], [null, null]);
    await assert.rejects(verifyRepoCar(await signedCar(keypair, root, [], new Map([[value.$link, bytes]])), { did, didKey: keypair.did() }), RepoVerificationError);
  });
});

describe('commit proof verification (the relay check)', () => {
  async function event() {
    const keypair = await generateKeypair('ES256K');
    const { head, blocks } = await buildRepo(keypair, 200);
    const store = new MemoryBlockStore();
    store.putMany(blocks, head.rev);
    const result = await applyWriteBatch({
      did,
      keypair,
      prev: { cid: head.cid, rev: head.rev, data: head.commit.data },
      blocks: store,
      writes: [
        { action: 'create', collection: 'app.bsky.feed.post', rkey: 'new1', record: post('new') },
        { action: 'update', collection: 'app.bsky.feed.post', rkey: 'r0031', record: post('edited') },
        { action: 'delete', collection: 'app.bsky.feed.like', rkey: 'r0040' },
      ],
    });
    const proof = { commit: result.cid, blocks: eventCar(result.cid, result.firehoseBlocks), ops: result.ops as ProofOp[], prevData: result.prevData, rev: result.rev };
    return { keypair, result, proof, expected: { did, didKey: keypair.did() } };
  }

  it('accepts the event of a write batch', async () => {
    const { proof, expected, result } = await event();
    const { commit } = await verifyCommitProof(proof, expected);
    assert.equal(commit.rev, result.rev);
  });

  it('rejects ops that leave one out, or claim the wrong prev', async () => {
    const { proof, expected } = await event();
    await assert.rejects(verifyCommitProof({ ...proof, ops: proof.ops.slice(1) }, expected), InvalidCommitProofError);
    await assert.rejects(verifyCommitProof({ ...proof, ops: proof.ops.slice(0, 2) }, expected), InvalidCommitProofError);
    const wrongPrev = proof.ops.map((op) => (op.action === 'update' ? { ...op, prev: proof.ops[0].cid } : op));
    await assert.rejects(verifyCommitProof({ ...proof, ops: wrongPrev }, expected), InvalidCommitProofError);
    const wrongCid = proof.ops.map((op) => (op.action === 'create' ? { ...op, cid: proof.ops[1].cid } : op));
    await assert.rejects(verifyCommitProof({ ...proof, ops: wrongCid }, expected), InvalidCommitProofError);
  });

  it('rejects a prevData the ops do not lead back to', async () => {
    const { proof, expected, result } = await event();
    await assert.rejects(verifyCommitProof({ ...proof, prevData: result.commit.data }, expected), InvalidCommitProofError);
  });

  it('rejects a slice missing a proof node or a created record', async () => {
    const { proof, expected, result } = await event();
    const mst = Mst.load({ get: (c) => result.firehoseBlocks.get(c)?.bytes }, result.commit.data);
    const proofNodes = mst.proof(result.ops.map((o) => o.path)) as Map<string, MstNode>;
    const root = mst.cid.$link;
    const created = cidToString(result.ops[0].cid!);
    for (const drop of [[...proofNodes.keys()].find((c) => c !== root)!, created]) {
      const partial = new Map(result.firehoseBlocks);
      partial.delete(drop);
      await assert.rejects(verifyCommitProof({ ...proof, blocks: eventCar(result.cid, partial) }, expected), InvalidCommitProofError);
    }
  });

  it('rejects a slice whose root is not the named commit, a bad signature, or another DID', async () => {
    const { proof, expected } = await event();
    await assert.rejects(verifyCommitProof({ ...proof, commit: cidForCbor(new Uint8Array([1])) }, expected), InvalidCommitProofError);
    await assert.rejects(verifyCommitProof({ ...proof, rev: '3lbkuudsw6k2e' }, expected), InvalidCommitProofError);
    const other = await generateKeypair('ES256K');
    await assert.rejects(verifyCommitProof(proof, { did, didKey: other.did() }), BadCommitSignatureError);
    await assert.rejects(verifyCommitProof(proof, { did: 'did:plc:other', didKey: expected.didKey }), CommitDidMismatchError);
  });
});
