// nodeChangesFrom (node-diff.ts) against diffFrom's nodes, on random batches of writes applied
// the way the repo write path applies them: from a stored tree, through a shared node cache,
// with the changes then stored and dropped, so the store must hold exactly the tree's nodes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyHeight } from './key.ts';
import { linkForCbor, type Link } from './link.ts';
import { Mst } from './mst.ts';
import { NodeCache } from './store.ts';
import type { MstNode } from './node.ts';
import { MapSource, random, treeNodes } from './test-helpers.ts';
import type { NodeChanges } from './node-diff.ts';
import type { MstDiff } from './diff.ts';

const TID_CHARS = '234567abcdefghijklmnopqrstuvwxyz';

function sorted<T>(items: Iterable<T>): T[] {
  return [...items].sort();
}

/** Applies one random batch (creates in TID order and at random keys, updates, deletes, undone creates) to `mst`. */
function randomBatch(mst: Mst, live: string[], rand: () => number, clock: { t: number }, salt: string): Mst {
  const value = (i: number): Link => linkForCbor(new TextEncoder().encode(`${salt}:${i}`));
  const size = 1 + Math.floor(rand() * (rand() < 0.7 ? 3 : 12));
  for (let i = 0; i < size; i++) {
    const r = rand();
    if (live.length < 5 || r < 0.55) {
      clock.t += 1 + Math.floor(rand() * 3000);
      let n = clock.t;
      let s = '';
      for (let j = 0; j < 13; j++) {
        s = TID_CHARS[n % 32] + s;
        n = Math.floor(n / 32);
      }
      const key = rand() < 0.8 ? `app.bsky.feed.post/${s}` : `com.example.record/k${Math.floor(rand() * 1e9).toString(36)}`;
      if (live.includes(key)) continue;
      mst = mst.add(key, value(i)) as Mst;
      if (rand() < 0.1) {
        mst = mst.delete(key) as Mst; // created and deleted in one batch: no trace
      } else {
        live.push(key);
      }
    } else if (r < 0.75) {
      const key = live[Math.floor(rand() * live.length)];
      // now and then the same value: a no-op update
      mst = mst.update(key, rand() < 0.2 ? (mst.get(key) as Link) : value(i)) as Mst;
    } else {
      const at = Math.floor(rand() * live.length);
      mst = mst.delete(live[at]) as Mst;
      live.splice(at, 1);
    }
  }
  return mst;
}

function run(seed: number, batches: number): number {
  const rand = random(seed);
  const source = new MapSource();
  const cache = new NodeCache(256);
  const live: string[] = [];
  const clock = { t: 1_700_000_000_000_000 };
  let root: string | null = null;
  let checked = 0;
  for (let b = 0; b < batches; b++) {
    const base: Mst = root === null ? Mst.empty(source, { cache }) : Mst.load(source, root, { cache });
    const next = randomBatch(base, live, rand, clock, `${seed}:${b}`);
    const changes = next.nodeChangesFrom(base) as NodeChanges;
    const diff = next.diffFrom(base) as MstDiff;
    assert.deepEqual(sorted(changes.newNodes.keys()), sorted(diff.newNodes.keys()), `seed ${seed}, batch ${b}: new nodes`);
    assert.deepEqual(sorted(changes.removedNodes), sorted(diff.removedNodes), `seed ${seed}, batch ${b}: removed nodes`);
    // store the change as the write path does; the store then holds exactly the new tree
    for (const [cid, node] of changes.newNodes) source.blocks.set(cid, node.bytes);
    for (const cid of changes.removedNodes) source.blocks.delete(cid);
    if (root === null) source.blocks.set(next.cid.$link, treeNodes(next).get(next.cid.$link)!);
    next.store.remember(changes.newNodes.values());
    assert.deepEqual(sorted(source.blocks.keys()), sorted(treeNodes(next).keys()), `seed ${seed}, batch ${b}: stored nodes`);
    root = next.cid.$link;
    checked++;
  }
  return checked;
}

describe('MST node changes (the write path\'s diff)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`agree with the full diff's nodes over 600 random batches, and leave the store holding exactly the tree (seed ${seed})`, () => {
      assert.equal(run(seed, 600), 600);
    });
  }

  it('reuses the old root under a taller new root: neither new nor removed', () => {
    const source = new MapSource();
    // keys of layer 0 (one node), then a key of a higher layer after all of them: the old root
    // becomes the left child of a new root, reused as the node object itself
    let mst = Mst.empty(source);
    const keys: string[] = [];
    for (let i = 0; keys.length < 6 && i < 10_000; i++) {
      const key = `com.example.record/a${i.toString().padStart(5, '0')}`;
      if (keyHeight(key) === 0) {
        keys.push(key);
        mst = mst.add(key, linkForCbor(new TextEncoder().encode(key))) as Mst;
      }
    }
    const stored = treeNodes(mst);
    for (const [cid, bytes] of stored) source.blocks.set(cid, bytes);
    const base = Mst.load(source, mst.cid);
    let tall: string | undefined;
    for (let i = 0; tall === undefined; i++) {
      const key = `com.example.record/z${i}`;
      if (keyHeight(key) > 0) tall = key;
    }
    const next = base.add(tall, linkForCbor(new TextEncoder().encode('tall'))) as Mst;
    const changes = next.nodeChangesFrom(base) as NodeChanges;
    const diff = next.diffFrom(base) as MstDiff;
    assert.deepEqual(sorted(changes.newNodes.keys()), sorted(diff.newNodes.keys()));
    assert.deepEqual(sorted(changes.removedNodes), sorted(diff.removedNodes));
    assert.ok(!changes.removedNodes.has(mst.cid.$link), 'the old root is still in the tree');
    assert.equal(changes.newNodes.size, 1, 'only the new root is new');
  });

  it('finds nothing for a batch that changes nothing, and everything for a tree emptied', () => {
    const source = new MapSource();
    let mst = Mst.empty(source);
    for (let i = 0; i < 50; i++) mst = mst.add(`com.example.record/k${i}`, linkForCbor(new TextEncoder().encode(String(i)))) as Mst;
    for (const [cid, bytes] of treeNodes(mst)) source.blocks.set(cid, bytes);
    const base = Mst.load(source, mst.cid);
    const same = (base.add('com.example.record/new', linkForCbor(new Uint8Array([1]))) as Mst).delete('com.example.record/new') as Mst;
    const none = same.nodeChangesFrom(base) as NodeChanges;
    assert.equal(none.newNodes.size + none.removedNodes.size, 0);
    let empty = base;
    for (let i = 0; i < 50; i++) empty = empty.delete(`com.example.record/k${i}`) as Mst;
    const all = empty.nodeChangesFrom(base) as NodeChanges;
    assert.deepEqual(sorted(all.removedNodes), sorted(source.blocks.keys()));
    assert.deepEqual(sorted(all.newNodes.keys()), sorted((empty.diffFrom(base) as MstDiff).newNodes.keys()));
  });

  it('works over an asynchronous block source (nodes it must open arrive later)', async () => {
    const sync = new MapSource();
    let mst = Mst.empty(sync);
    for (let i = 0; i < 300; i++) mst = mst.add(`com.example.record/k${i}`, linkForCbor(new TextEncoder().encode(String(i)))) as Mst;
    for (const [cid, bytes] of treeNodes(mst)) sync.blocks.set(cid, bytes);
    // an empty cache: every node the walks need comes from the source, asynchronously
    const base = Mst.load(new MapSource(sync.blocks, true), mst.cid, { cache: new NodeCache() });
    const next = await (await (await base.add('com.example.record/new', linkForCbor(new Uint8Array([1])))).delete('com.example.record/k7')).delete('com.example.record/k250');
    // the new tree over a store whose cache is empty: the old nodes the walk opens must be read
    const source = new MapSource(sync.blocks, true);
    const cold = Mst.load(source, mst.cid, { cache: new NodeCache() });
    const changes = await cold.at(next.root as MstNode).nodeChangesFrom(cold);
    assert.ok(source.reads > 0, 'the walk read old nodes from the asynchronous source');
    const expected = await next.diffFrom(base);
    assert.deepEqual(sorted(changes.newNodes.keys()), sorted(expected.newNodes.keys()));
    assert.deepEqual(sorted(changes.removedNodes), sorted(expected.removedNodes));
    assert.ok(changes.removedNodes.size > 0 && changes.newNodes.size > 0);
  });
});
