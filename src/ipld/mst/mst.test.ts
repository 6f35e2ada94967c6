import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KeyExistsError, KeyNotFoundError, MalformedNodeError, MissingBlockError, InvalidMstKeyError } from './errors.ts';
import { keyHeight } from './key.ts';
import { linkForCbor, parseLink, type Link } from './link.ts';
import { Mst } from './mst.ts';
import { MstNode } from './node.ts';
import { MapSource, permutations, random, treeNodes } from './test-helpers.ts';

const EMPTY_ROOT = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
const enc = new TextEncoder();
const value = (i: number): Link => linkForCbor(enc.encode(`record ${i}`));
const keyOf = (i: number) => `com.example.record/${String(i).padStart(6, '0')}`;

function build(keys: Iterable<string>, source = new MapSource(), valueOf = (k: string) => linkForCbor(enc.encode(k))): Mst {
  let mst = Mst.empty(source);
  for (const key of keys) mst = mst.add(key, valueOf(key)) as Mst;
  return mst;
}

/** Stores every node of the tree in the source, then reloads it from its root CID. */
function persist(mst: Mst, source: MapSource, options: { strict?: boolean } = {}): Mst {
  for (const [cid, bytes] of treeNodes(mst)) source.blocks.set(cid, bytes);
  return Mst.load(source, mst.cid, options);
}

describe('MST', () => {
  describe('commit proof fixtures (interop firehose/commit-proof-fixtures.json)', () => {
    const fixtures = JSON.parse(
      readFileSync(new URL('../../../../shared/interop/firehose/commit-proof-fixtures.json', import.meta.url), 'utf8'),
    ) as Array<{ comment: string; leafValue: string; keys: string[]; adds: string[]; dels: string[]; rootBeforeCommit: string; rootAfterCommit: string; blocksInProof: string[] }>;
    assert.equal(fixtures.length, 6);

    for (const f of fixtures) {
      it(`${f.comment}: builds both roots, proves the ops, and inverts them in every order`, async () => {
        const leafValue = parseLink(f.leafValue);
        // 1. the tree of `keys`
        const before = build(f.keys, new MapSource(), () => leafValue);
        assert.equal(before.cid.$link, f.rootBeforeCommit);
        // 2. the commit's adds and deletes
        let after = before;
        for (const key of f.adds) after = after.add(key, leafValue) as Mst;
        for (const key of f.dels) after = after.delete(key) as Mst;
        assert.equal(after.cid.$link, f.rootAfterCommit);
        // 3. the covering proof holds every block the fixture lists
        const proof = after.proof([...f.adds, ...f.dels]) as Map<string, MstNode>;
        for (const cid of f.blocksInProof) assert.ok(proof.has(cid), `proof lacks ${cid}`);
        // 4. from the new root, with nothing but the proof, undo the ops in every order
        const proofOnly = new MapSource(new Map([...proof].map(([cid, node]) => [cid, node.bytes])));
        const ops = [...f.adds.map((key) => ({ key, undo: 'delete' as const })), ...f.dels.map((key) => ({ key, undo: 'add' as const }))];
        for (const order of permutations(ops)) {
          let tree = Mst.load(proofOnly, f.rootAfterCommit, { strict: true });
          for (const op of order) tree = (op.undo === 'delete' ? tree.delete(op.key) : tree.add(op.key, leafValue)) as Mst;
          assert.equal(tree.cid.$link, f.rootBeforeCommit, order.map((o) => `${o.undo} ${o.key}`).join(', '));
        }
        // the same inversion through an asynchronous source
        const asyncProof = new MapSource(proofOnly.blocks, true);
        let tree = Mst.load(asyncProof, f.rootAfterCommit, { strict: true });
        for (const op of ops) tree = await (op.undo === 'delete' ? tree.delete(op.key) : tree.add(op.key, leafValue));
        assert.equal(tree.cid.$link, f.rootBeforeCommit);
      });
    }
  });

  it('an empty tree has the well-known empty root', () => {
    assert.equal(Mst.empty(new MapSource()).cid.$link, EMPTY_ROOT);
  });

  it('adds, reads, updates and deletes keys, leaving earlier trees untouched', () => {
    const one = build(['com.example.a/1']);
    const two = one.add('com.example.b/2', value(2)) as Mst;
    assert.equal(one.get('com.example.b/2'), null);
    assert.equal((two.get('com.example.b/2') as Link).$link, value(2).$link);
    const three = two.update('com.example.b/2', value(3)) as Mst;
    assert.equal((three.get('com.example.b/2') as Link).$link, value(3).$link);
    assert.equal((two.get('com.example.b/2') as Link).$link, value(2).$link);
    const four = three.delete('com.example.a/1') as Mst;
    assert.equal(four.get('com.example.a/1'), null);
    assert.notEqual(three.get('com.example.a/1'), null);
    assert.equal((four.delete('com.example.b/2') as Mst).cid.$link, EMPTY_ROOT);
  });

  it('refuses to add an existing key, or to update or delete a missing one', () => {
    const mst = build(['com.example.a/1', 'com.example.a/2']);
    assert.throws(() => mst.add('com.example.a/1', value(1)), KeyExistsError);
    assert.throws(() => mst.update('com.example.a/3', value(1)), KeyNotFoundError);
    assert.throws(() => mst.delete('com.example.a/3'), KeyNotFoundError);
    assert.throws(() => Mst.empty(new MapSource()).delete('com.example.a/3'), KeyNotFoundError);
    assert.throws(() => mst.add('no-slash', value(1)), InvalidMstKeyError);
  });

  it('an update to the same value returns the same tree', () => {
    const mst = build(['com.example.a/1']);
    const link = mst.get('com.example.a/1') as Link;
    assert.equal(mst.update('com.example.a/1', link), mst);
  });

  it('has one shape per key set whatever the order of insertion and deletion', () => {
    const keys = Array.from({ length: 600 }, (_, i) => keyOf(i * 7919 % 1000));
    const rand = random(1);
    const shuffled = keys.slice().sort(() => rand() - 0.5);
    const a = build(keys);
    const b = build(shuffled);
    assert.equal(a.cid.$link, b.cid.$link);
    // add extra keys and take them out again, in another order
    const extra = Array.from({ length: 200 }, (_, i) => keyOf(1000 + i));
    let c = build([...extra, ...shuffled]);
    for (const key of extra.slice().reverse()) c = c.delete(key) as Mst;
    assert.equal(c.cid.$link, a.cid.$link);
    for (const key of shuffled) c = c.delete(key) as Mst;
    assert.equal(c.cid.$link, EMPTY_ROOT);
  });

  it('keeps keys of the same height in one node and higher keys above (spec layout)', () => {
    const mst = build(['com.example.x/a', 'com.example.x/b', 'com.example.x/c', 'com.example.x/d', 'com.example.x/e']);
    const { node, layer } = mst.rootNode() as { node: MstNode; layer: number };
    assert.equal(layer, Math.max(...['a', 'b', 'c', 'd', 'e'].map((s) => keyHeight(`com.example.x/${s}`))));
    for (const key of node.keys) assert.equal(keyHeight(key), layer);
  });

  it('reloads from stored blocks and reads the same leaves, in order, within ranges', () => {
    const source = new MapSource();
    const keys = Array.from({ length: 500 }, (_, i) => keyOf(i));
    const stored = persist(build(keys, source), source);
    assert.deepEqual([...stored.leaves()].map((l) => l.key), keys);
    assert.deepEqual([...stored.leaves({ from: keyOf(100), to: keyOf(110) })].map((l) => l.key), keys.slice(100, 110));
    assert.deepEqual([...stored.leaves({ from: 'com.example.record/0001' })].length, 500 - 100);
    assert.deepEqual([...stored.leaves({ prefix: 'com.example.record/00042' })].map((l) => l.key), keys.slice(420, 430));
    assert.deepEqual([...stored.leaves({ prefix: 'com.other/' })], []);
  });

  it('a write rebuilds only the nodes on its path', () => {
    const source = new MapSource();
    const stored = persist(build(Array.from({ length: 3000 }, (_, i) => keyOf(i)), source), source);
    const { layer } = stored.rootNode() as { layer: number };
    const next = stored.add(keyOf(1500) + 'x', value(1)) as Mst;
    let rebuilt = 0;
    const visit = (ref: MstNode | Link | null) => {
      if (!(ref instanceof MstNode) || ref.sealed) return;
      rebuilt++;
      ref.kids.forEach(visit);
    };
    visit(next.root as MstNode);
    // one node per layer, plus at most one extra where the new key splits a node
    assert.ok(rebuilt <= layer + 2, `${rebuilt} nodes rebuilt for ${layer + 1} layers`);
  });

  it('diffs two trees, reading only the nodes that differ', () => {
    const source = new MapSource();
    const keys = Array.from({ length: 2000 }, (_, i) => keyOf(i));
    const base = persist(build(keys, source), source);
    let next = base;
    next = next.add(keyOf(5000), value(1)) as Mst;
    next = next.update(keyOf(10), value(2)) as Mst;
    next = next.delete(keyOf(1999)) as Mst;
    next = next.delete(keyOf(700)) as Mst;
    const stored = persist(next, source);
    const fresh = Mst.load(source, base.cid);
    const newer = fresh.at(stored.cid);
    source.reads = 0;
    const diff = newer.diffFrom(fresh) as Awaited<ReturnType<Mst['diffFrom']>>;
    const reads = source.reads;
    assert.deepEqual(diff.adds.map((a) => a.key), [keyOf(5000)]);
    assert.deepEqual(diff.updates.map((u) => [u.key, u.cid.$link]), [[keyOf(10), value(2).$link]]);
    assert.deepEqual(diff.deletes.map((d) => d.key), [keyOf(700), keyOf(1999)]);
    const total = treeNodes(fresh).size;
    // at most the paths of 4 changed keys, in both trees
    const { layer } = fresh.rootNode() as { layer: number };
    assert.ok(reads <= 4 * 2 * (layer + 2) && reads < total / 10, `${reads} reads for a tree of ${total} nodes`);
    // new and removed nodes are exactly the difference of the two trees' node sets
    const oldNodes = new Set(treeNodes(fresh).keys());
    const newNodes = new Set(treeNodes(newer).keys());
    assert.deepEqual(new Set(diff.newNodes.keys()), new Set([...newNodes].filter((c) => !oldNodes.has(c))));
    assert.deepEqual(diff.removedNodes, new Set([...oldNodes].filter((c) => !newNodes.has(c))));
    // and the reverse diff mirrors it
    const back = fresh.diffFrom(newer) as typeof diff;
    assert.deepEqual(back.adds.map((a) => a.key), [keyOf(700), keyOf(1999)]);
    assert.deepEqual(back.deletes.map((d) => d.key), [keyOf(5000)]);
  });

  it('diffs against the empty tree as every key added', () => {
    const keys = Array.from({ length: 50 }, (_, i) => keyOf(i));
    const mst = build(keys);
    const diff = mst.diffFrom(Mst.empty(new MapSource())) as Awaited<ReturnType<Mst['diffFrom']>>;
    assert.deepEqual(diff.adds.map((a) => a.key), keys);
    assert.deepEqual(diff.removedNodes, new Set([EMPTY_ROOT]));
    assert.equal(diff.newNodes.size, treeNodes(mst).size);
  });

  it('works the same over an asynchronous block source', async () => {
    const sync = new MapSource();
    const keys = Array.from({ length: 300 }, (_, i) => keyOf(i));
    const built = persist(build(keys, sync), sync);
    const source = new MapSource(sync.blocks, true);
    let mst = Mst.load(source, built.cid);
    assert.equal(((await mst.get(keyOf(5))) as Link).$link, linkForCbor(enc.encode(keyOf(5))).$link);
    mst = await mst.add(keyOf(1000), value(1));
    mst = await mst.delete(keyOf(3));
    const expected = (built.add(keyOf(1000), value(1)) as Mst).delete(keyOf(3)) as Mst;
    assert.equal(mst.cid.$link, expected.cid.$link);
    const seen: string[] = [];
    for await (const leaf of Mst.load(source, built.cid).leavesAsync({ to: keyOf(3) })) seen.push(leaf.key);
    assert.deepEqual(seen, keys.slice(0, 3));
    assert.throws(() => [...Mst.load(source, built.cid, { cache: undefined }).leaves()], TypeError);
  });

  it('lists blocks in the streamable CAR order: each node before its slots, left to right', () => {
    const mst = build(Array.from({ length: 200 }, (_, i) => keyOf(i)));
    const blocks = [...mst.blocks()];
    assert.equal(blocks[0].kind, 'node');
    assert.equal(blocks[0].cid.$link, mst.cid.$link);
    const records = blocks.filter((b) => b.kind === 'record').map((b) => (b as { key: string }).key);
    assert.deepEqual(records, Array.from({ length: 200 }, (_, i) => keyOf(i)));
    // every node comes after the node that links it
    const position = new Map(blocks.map((b, i) => [b.cid.$link, i]));
    for (const [i, block] of blocks.entries()) {
      if (block.kind !== 'node') continue;
      for (const kid of block.node.kids) {
        if (kid !== null) assert.ok(position.get((kid instanceof MstNode ? kid.cid : kid).$link)! > i);
      }
    }
  });

  it('fails with MissingBlockError when a node is not in the source', () => {
    const source = new MapSource();
    const stored = persist(build(Array.from({ length: 300 }, (_, i) => keyOf(i)), source), source);
    const { node } = stored.rootNode() as { node: MstNode };
    const child = node.kids.find((k) => k !== null) as Link;
    source.blocks.delete(child.$link);
    const fresh = Mst.load(source, stored.cid);
    assert.throws(() => [...fresh.leaves()], MissingBlockError);
    assert.throws(() => Mst.load(source, linkForCbor(enc.encode('nothing'))).get('a/b'), MissingBlockError);
  });

  it('in strict mode rejects a node holding a key of the wrong height', () => {
    // a height-0 key and a height-1 key side by side in one node
    const low = ['com.example.x/a', 'com.example.x/b', 'com.example.x/c', 'com.example.x/d'].find((k) => keyHeight(k) === 0)!;
    const high = Array.from({ length: 100 }, (_, i) => `com.example.y/${i}`).find((k) => keyHeight(k) === 1)!;
    const keys = [low, high].sort();
    const bad = new MstNode(keys, [value(1), value(2)], [null, null, null]);
    const source = new MapSource(new Map([[bad.cid.$link, bad.bytes]]));
    assert.equal(Mst.load(source, bad.cid).get(low) === null, false);
    assert.throws(() => Mst.load(source, bad.cid, { strict: true }).get(low), MalformedNodeError);
  });
});
