// Our MST against @atproto/repo's on the same random histories: the root CID must agree after
// every step (one seed) or every 100th step (the others). Roots are the whole tree's hash, so
// agreeing roots mean byte-identical nodes, layout, prefix compression and all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryBlockstore, MST } from '@atproto/repo';
import { parseCid } from '@atproto/lex-data';
import { linkForCbor, type Link } from './link.ts';
import { Mst } from './mst.ts';
import { MapSource, random, treeNodes } from './test-helpers.ts';

const STEPS = 10_000;
const COLLECTIONS = ['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.graph.follow', 'com.example.record'];
const TID_CHARS = '234567abcdefghijklmnopqrstuvwxyz';

interface Step {
  op: 'add' | 'update' | 'delete';
  key: string;
  value: Link | null;
}

/** A reproducible history of creates (TID-ordered and random keys), updates and deletes. */
function history(seed: number): Step[] {
  const rand = random(seed);
  const live: string[] = [];
  const liveSet = new Set<string>();
  const steps: Step[] = [];
  let clock = 1_700_000_000_000_000;
  const tid = () => {
    clock += 1 + Math.floor(rand() * 5000);
    let n = clock;
    let s = '';
    for (let i = 0; i < 11; i++) {
      s = TID_CHARS[n % 32] + s;
      n = Math.floor(n / 32);
    }
    return s + TID_CHARS[Math.floor(rand() * 32)] + TID_CHARS[Math.floor(rand() * 32)];
  };
  for (let i = 0; i < STEPS; i++) {
    const r = rand();
    const value = linkForCbor(new TextEncoder().encode(`${seed}:${i}`));
    if (live.length < 20 || r < 0.6) {
      const collection = COLLECTIONS[Math.floor(rand() * COLLECTIONS.length)];
      const rkey = rand() < 0.7 ? tid() : `k${Math.floor(rand() * 1e9).toString(36)}`;
      const key = `${collection}/${rkey}`;
      if (liveSet.has(key)) continue;
      live.push(key);
      liveSet.add(key);
      steps.push({ op: 'add', key, value });
    } else {
      const at = Math.floor(rand() * live.length);
      const key = live[at];
      if (r < 0.8) {
        steps.push({ op: 'update', key, value });
      } else {
        live[at] = live[live.length - 1];
        live.pop();
        liveSet.delete(key);
        steps.push({ op: 'delete', key, value: null });
      }
    }
  }
  return steps;
}

async function compare(seed: number, every: number): Promise<number> {
  const source = new MapSource();
  let ours = Mst.empty(source);
  let theirs = await MST.create(new MemoryBlockstore());
  let compared = 0;
  const steps = history(seed);
  for (const [i, step] of steps.entries()) {
    if (step.op === 'add') {
      ours = ours.add(step.key, step.value!) as Mst;
      theirs = await theirs.add(step.key, parseCid(step.value!.$link));
    } else if (step.op === 'update') {
      ours = ours.update(step.key, step.value!) as Mst;
      theirs = await theirs.update(step.key, parseCid(step.value!.$link));
    } else {
      ours = ours.delete(step.key) as Mst;
      theirs = await theirs.delete(step.key);
    }
    if (i % every === 0 || i === steps.length - 1) {
      assert.equal(ours.cid.$link, (await theirs.getPointer()).toString(), `seed ${seed}, step ${i}: ${step.op} ${step.key}`);
      compared++;
    }
    // now and then continue from stored blocks, as a PDS does between commits
    if (i % 1000 === 999) {
      for (const [cid, bytes] of treeNodes(ours)) source.blocks.set(cid, bytes);
      ours = Mst.load(source, ours.cid);
    }
  }
  return compared;
}

describe('MST differential against @atproto/repo', () => {
  it('agrees on the root after every one of 10,000 random creates, updates and deletes (seed 1)', async () => {
    assert.equal(await compare(1, 1), STEPS);
  });

  for (const seed of [2, 3, 4]) {
    it(`agrees on the root every 100 steps of 10,000 random writes (seed ${seed})`, async () => {
      assert.ok((await compare(seed, 100)) >= STEPS / 100);
    });
  }
});
