// Shared by the MST tests: block maps standing in for a store, and a seeded random source.
import { drainSync, NodeStore } from './store.ts';
import { blocksWalk } from './read.ts';
import type { Mst } from './mst.ts';

/** A block source over a Map that counts its reads, optionally answering asynchronously. */
export class MapSource {
  reads = 0;
  constructor(
    readonly blocks = new Map<string, Uint8Array>(),
    readonly async = false,
  ) {}

  get(cid: string): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    this.reads++;
    const bytes = this.blocks.get(cid);
    return this.async ? Promise.resolve(bytes) : bytes;
  }
}

/** Every node of a tree (in memory or stored), keyed by CID. */
export function treeNodes(mst: Mst): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const store = new NodeStore(mst.store.source, mst.store.cache);
  for (const block of drainSync(store, blocksWalk(store, mst.root))) {
    if (block.kind === 'node') out.set(block.cid.$link, block.node.bytes);
  }
  return out;
}

/** Small, seeded, good enough to shuffle keys reproducibly (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  const out: T[][] = [];
  items.forEach((item, i) => {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) out.push([item, ...rest]);
  });
  return out;
}
