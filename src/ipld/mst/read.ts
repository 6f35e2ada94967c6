import { keyHeight } from './key.ts';
import type { Link } from './link.ts';
import { lowerBound, loadRoot } from './mutate.ts';
import { MstNode, type NodeRef } from './node.ts';
import { loadChild, type NodeStore, type Op, type Walk } from './store.ts';

export interface Leaf {
  key: string;
  value: Link;
}

export function* getOp(store: NodeStore, root: NodeRef, key: string): Op<Link | null> {
  let { node, layer } = yield* loadRoot(store, root);
  if (layer < 0) return null;
  const height = keyHeight(key);
  if (height > layer) return null;
  for (;;) {
    const i = lowerBound(node.keys, key);
    if (layer === height) return i < node.keys.length && node.keys[i] === key ? node.vals[i] : null;
    const ref = node.kids[i];
    if (ref === null) return null;
    node = yield* loadChild(store, ref, --layer);
  }
}

/**
 * Leaves in key order with `from <= key < to`, skipping every subtree wholly outside the range.
 * An explicit stack instead of recursion keeps it one generator however deep the tree is.
 */
export function* leavesWalk(store: NodeStore, root: NodeRef, from?: string, to?: string): Walk<Leaf> {
  const top = yield* loadRoot(store, root);
  if (top.layer < 0) return;
  const nodes: MstNode[] = [top.node];
  const layers: number[] = [top.layer];
  const next: number[] = [from === undefined ? 0 : lowerBound(top.node.keys, from)];
  const kidDone: boolean[] = [false];
  let lower = from;
  while (nodes.length > 0) {
    const t = nodes.length - 1;
    const node = nodes[t];
    const i = next[t];
    if (!kidDone[t]) {
      kidDone[t] = true;
      const ref = node.kids[i];
      if (ref !== null) {
        const child = yield* loadChild(store, ref, layers[t] - 1);
        nodes.push(child);
        layers.push(layers[t] - 1);
        next.push(lower === undefined ? 0 : lowerBound(child.keys, lower));
        kidDone.push(false);
      }
      continue;
    }
    if (i >= node.keys.length) {
      nodes.pop();
      layers.pop();
      next.pop();
      kidDone.pop();
      continue;
    }
    const key = node.keys[i];
    if (to !== undefined && key >= to) return;
    lower = undefined; // every later key is past `from`
    yield { key, value: node.vals[i] };
    next[t] = i + 1;
    kidDone[t] = false;
  }
}

export type TreeBlock = { kind: 'node'; cid: Link; node: MstNode } | { kind: 'record'; cid: Link; key: string };

/**
 * Every block of the tree in the spec's streamable order: a node, then its slots in order
 * (left subtree, then each entry's record followed by its right subtree), depth first.
 */
export function* blocksWalk(store: NodeStore, root: NodeRef): Walk<TreeBlock> {
  const top = yield* loadRoot(store, root);
  yield { kind: 'node', cid: top.node.cid, node: top.node };
  if (top.layer < 0) return;
  const nodes: MstNode[] = [top.node];
  const layers: number[] = [top.layer];
  const slots: number[] = [0]; // slot 2i is kids[i], slot 2i+1 is entry i
  while (nodes.length > 0) {
    const t = nodes.length - 1;
    const node = nodes[t];
    const slot = slots[t]++;
    if (slot > 2 * node.keys.length) {
      nodes.pop();
      layers.pop();
      slots.pop();
      continue;
    }
    if (slot & 1) {
      const i = slot >> 1;
      yield { kind: 'record', cid: node.vals[i], key: node.keys[i] };
      continue;
    }
    const ref = node.kids[slot >> 1];
    if (ref === null) continue;
    const child = yield* loadChild(store, ref, layers[t] - 1);
    yield { kind: 'node', cid: child.cid, node: child };
    nodes.push(child);
    layers.push(layers[t] - 1);
    slots.push(0);
  }
}

/**
 * Adds to `out` the nodes that prove `key`'s presence or absence and that let anyone holding
 * only them insert or remove `key`: the search path, and where the key sits, the facing spines
 * of the two subtrees beside it (a removal merges exactly those).
 */
export function* proofOp(store: NodeStore, root: NodeRef, key: string, out: Map<string, MstNode>): Op<void> {
  let { node, layer } = yield* loadRoot(store, root);
  out.set(node.cid.$link, node);
  if (layer < 0) return;
  for (;;) {
    const i = lowerBound(node.keys, key);
    if (i < node.keys.length && node.keys[i] === key) {
      yield* spineOp(store, node.kids[i], layer - 1, true, out);
      yield* spineOp(store, node.kids[i + 1], layer - 1, false, out);
      return;
    }
    const ref = node.kids[i];
    if (ref === null) return;
    node = yield* loadChild(store, ref, --layer);
    out.set(node.cid.$link, node);
  }
}

function* spineOp(store: NodeStore, ref: NodeRef | null, layer: number, last: boolean, out: Map<string, MstNode>): Op<void> {
  while (ref !== null) {
    const node: MstNode = yield* loadChild(store, ref, layer--);
    out.set(node.cid.$link, node);
    ref = last ? node.kids[node.keys.length] : node.kids[0];
  }
}

export function refLink(ref: NodeRef): Link {
  return ref instanceof MstNode ? ref.cid : ref;
}
