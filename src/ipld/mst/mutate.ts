import { KeyExistsError, KeyNotFoundError, MalformedNodeError } from './errors.ts';
import { keyHeight } from './key.ts';
import { linkEquals, type Link } from './link.ts';
import { emptyNode, MstNode, type NodeRef } from './node.ts';
import { checkLayer, loadChild, type NodeStore, type Op } from './store.ts';

// Path copying: every operation rebuilds only the nodes on its key's path (and, for a delete,
// the two spines it merges) and reuses every other subtree by reference, so a write costs
// O(depth) nodes and untouched nodes keep their CIDs without being hashed again.

/** Index of the first key >= `key`. */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The root node and its layer (-1 for the empty tree); a valid root holds entries. */
export function* loadRoot(store: NodeStore, root: NodeRef): Op<{ node: MstNode; layer: number }> {
  const node = root instanceof MstNode ? root : (store.peek(root) ?? (yield root));
  if (node.keys.length > 0) {
    const layer = node.firstKeyLayer;
    if (store.strict && node.checkedLayer !== layer) {
      checkLayer(node, layer, node.sealed ? node.cid.$link : undefined);
      node.checkedLayer = layer;
    }
    return { node, layer };
  }
  if (node.kids[0] === null) return { node, layer: -1 };
  // a root with no entries is not trimmed: only trees built elsewhere can look like this
  if (store.strict) throw new MalformedNodeError('root has no entries but a subtree', node.sealed ? node.cid.$link : undefined);
  let depth = 1;
  let below = yield* loadChildAnyLayer(store, node.kids[0]);
  while (below.keys.length === 0 && below.kids[0] !== null) {
    below = yield* loadChildAnyLayer(store, below.kids[0]);
    depth++;
  }
  if (below.keys.length === 0) throw new MalformedNodeError('empty node below the root');
  return { node, layer: below.firstKeyLayer + depth };
}

/** A child node as it is, without the checks of the layer it was reached at. */
export function* loadChildAnyLayer(store: NodeStore, ref: NodeRef): Op<MstNode> {
  return ref instanceof MstNode ? ref : (store.peek(ref) ?? (yield ref));
}

function insertAt<T>(list: readonly T[], i: number, value: T): T[] {
  const out = list.slice(0, i);
  out.push(value);
  for (let j = i; j < list.length; j++) out.push(list[j]);
  return out;
}

function removeAt<T>(list: readonly T[], i: number): T[] {
  const out = list.slice(0, i);
  for (let j = i + 1; j < list.length; j++) out.push(list[j]);
  return out;
}

function replaceAt<T>(list: readonly T[], i: number, value: T): T[] {
  const out = list.slice();
  out[i] = value;
  return out;
}

// ---- add ------------------------------------------------------------------------------------

export function* addOp(store: NodeStore, root: NodeRef, key: string, value: Link): Op<MstNode> {
  const height = keyHeight(key);
  const { node, layer } = yield* loadRoot(store, root);
  if (layer < 0) return new MstNode([key], [value], [null, null]);
  let top = node;
  let topLayer = layer;
  // a key above the root grows the tree: empty parents until its layer, then it splits the old root
  while (height > topLayer) {
    top = new MstNode([], [], [top]);
    topLayer++;
  }
  return yield* addAt(store, top, topLayer, key, height, value);
}

function* addAt(store: NodeStore, node: MstNode, layer: number, key: string, height: number, value: Link): Op<MstNode> {
  const { keys, vals, kids } = node;
  const i = lowerBound(keys, key);
  if (i < keys.length && keys[i] === key) throw new KeyExistsError(key);
  if (height === layer) {
    const [left, right] = yield* splitOp(store, kids[i], layer - 1, key);
    const newKids = kids.slice(0, i);
    newKids.push(left, right);
    for (let j = i + 1; j < kids.length; j++) newKids.push(kids[j]);
    return new MstNode(insertAt(keys, i, key), insertAt(vals, i, value), newKids);
  }
  const ref = kids[i];
  const child = ref === null ? emptyNode() : yield* loadChild(store, ref, layer - 1);
  const newChild = yield* addAt(store, child, layer - 1, key, height, value);
  return new MstNode(keys, vals, replaceAt(kids, i, newChild));
}

/** Splits a subtree around a key it does not hold: the parts before and after it, each possibly null. */
function* splitOp(store: NodeStore, ref: NodeRef | null, layer: number, key: string): Op<[NodeRef | null, NodeRef | null]> {
  if (ref === null) return [null, null];
  const node = yield* loadChild(store, ref, layer);
  const { keys, vals, kids } = node;
  const n = keys.length;
  const i = lowerBound(keys, key);
  if (i < n && keys[i] === key) throw new MalformedNodeError(`key ${key} below its layer`);
  const [l, r] = yield* splitOp(store, kids[i], layer - 1, key);
  // a side the key does not cut keeps the original node, CID and all
  let left: NodeRef | null;
  if (i === n && l === kids[n]) left = ref;
  else if (i === 0 && l === null) left = null;
  else {
    const leftKids = kids.slice(0, i);
    leftKids.push(l);
    left = new MstNode(keys.slice(0, i), vals.slice(0, i), leftKids);
  }
  let right: NodeRef | null;
  if (i === 0 && r === kids[0]) right = ref;
  else if (i === n && r === null) right = null;
  else {
    const rightKids: (NodeRef | null)[] = [r];
    for (let j = i + 1; j <= n; j++) rightKids.push(kids[j]);
    right = new MstNode(keys.slice(i), vals.slice(i), rightKids);
  }
  return [left, right];
}

// ---- update ---------------------------------------------------------------------------------

export function* updateOp(store: NodeStore, root: NodeRef, key: string, value: Link): Op<MstNode> {
  const height = keyHeight(key);
  const { node, layer } = yield* loadRoot(store, root);
  if (height > layer) throw new KeyNotFoundError(key);
  return yield* updateAt(store, node, layer, key, height, value);
}

function* updateAt(store: NodeStore, node: MstNode, layer: number, key: string, height: number, value: Link): Op<MstNode> {
  const { keys, vals, kids } = node;
  const i = lowerBound(keys, key);
  if (height === layer) {
    if (i >= keys.length || keys[i] !== key) throw new KeyNotFoundError(key);
    if (linkEquals(vals[i], value)) return node;
    return new MstNode(keys, replaceAt(vals, i, value), kids);
  }
  const ref = kids[i];
  if (ref === null) throw new KeyNotFoundError(key);
  const child = yield* loadChild(store, ref, layer - 1);
  const newChild = yield* updateAt(store, child, layer - 1, key, height, value);
  if (newChild === child) return node;
  return new MstNode(keys, vals, replaceAt(kids, i, newChild));
}

// ---- delete ---------------------------------------------------------------------------------

export function* deleteOp(store: NodeStore, root: NodeRef, key: string): Op<MstNode> {
  const height = keyHeight(key);
  const { node, layer } = yield* loadRoot(store, root);
  if (height > layer) throw new KeyNotFoundError(key);
  let top = yield* deleteAt(store, node, layer, key, height);
  let topLayer = layer;
  // the root must hold entries: drop empty tops until one does (or the tree is empty)
  while (top.keys.length === 0 && top.kids[0] !== null) {
    top = yield* loadChild(store, top.kids[0], --topLayer);
  }
  return top;
}

function* deleteAt(store: NodeStore, node: MstNode, layer: number, key: string, height: number): Op<MstNode> {
  const { keys, vals, kids } = node;
  const i = lowerBound(keys, key);
  if (height === layer) {
    if (i >= keys.length || keys[i] !== key) throw new KeyNotFoundError(key);
    const merged = yield* mergeOp(store, kids[i], kids[i + 1], layer - 1);
    const newKids = kids.slice(0, i);
    newKids.push(merged);
    for (let j = i + 2; j < kids.length; j++) newKids.push(kids[j]);
    return new MstNode(removeAt(keys, i), removeAt(vals, i), newKids);
  }
  const ref = kids[i];
  if (ref === null) throw new KeyNotFoundError(key);
  const child = yield* loadChild(store, ref, layer - 1);
  const newChild = yield* deleteAt(store, child, layer - 1, key, height);
  // a child left with nothing at all is pruned; one with only a subtree stays, to keep layers contiguous
  return new MstNode(keys, vals, replaceAt(kids, i, newChild.isEmpty ? null : newChild));
}

/** Joins two adjacent subtrees of the same layer (all keys of `a` before those of `b`). */
function* mergeOp(store: NodeStore, a: NodeRef | null, b: NodeRef | null, layer: number): Op<NodeRef | null> {
  if (a === null) return b;
  if (b === null) return a;
  const left = yield* loadChild(store, a, layer);
  const right = yield* loadChild(store, b, layer);
  const n = left.keys.length;
  const middle = yield* mergeOp(store, left.kids[n], right.kids[0], layer - 1);
  const kids = left.kids.slice(0, n);
  kids.push(middle);
  for (let j = 1; j < right.kids.length; j++) kids.push(right.kids[j]);
  return new MstNode(left.keys.concat(right.keys), left.vals.concat(right.vals), kids);
}
