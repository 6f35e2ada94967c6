import { MalformedNodeError, MissingBlockError } from './errors.ts';
import { keyHeight } from './key.ts';
import type { Link } from './link.ts';
import { decodeNode, MstNode, type NodeRef } from './node.ts';

export type MaybePromise<T> = T | Promise<T>;

/**
 * Where the tree reads blocks from, by CID string. A synchronous answer (SQLite, memory) keeps
 * every operation synchronous; a Promise (a remote or async database) is awaited only then.
 */
export interface BlockSource {
  get(cid: string): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

/**
 * Decoded nodes by CID, bounded. Two generations instead of a strict LRU: a hit in the old
 * generation moves the node to the young one, and when the young one fills up the old one is
 * dropped whole. That keeps the recently used nodes (a repo's upper layers) at the cost of two
 * Map lookups, with no per-hit reordering.
 */
export class NodeCache {
  #young = new Map<string, MstNode>();
  #old = new Map<string, MstNode>();
  readonly #half: number;
  /**
   * The root of the last tree a write built over this cache (a repo's cache: its new data root).
   * The next write of the repo starts from that root, named by its CID string; this saves
   * parsing the string back.
   */
  lastRoot: Link | undefined;

  constructor(capacity = 8192) {
    this.#half = Math.max(1, capacity >> 1);
  }

  get(cid: string): MstNode | undefined {
    const node = this.#young.get(cid);
    if (node !== undefined) return node;
    const old = this.#old.get(cid);
    if (old !== undefined) this.set(cid, old);
    return old;
  }

  set(cid: string, node: MstNode): void {
    if (this.#young.size >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(cid, node);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
    this.lastRoot = undefined;
  }
}

/**
 * Loads nodes from a block source through a cache. In strict mode every node is checked
 * against the layer it was reached at (each key's height, no children below layer 0), which is
 * what verifying an untrusted tree needs; our own stores skip those hashes.
 */
export class NodeStore {
  constructor(
    readonly source: BlockSource,
    readonly cache: NodeCache = new NodeCache(),
    readonly strict = false,
  ) {}

  peek(link: Link): MstNode | undefined {
    return this.cache.get(link.$link);
  }

  load(link: Link): MstNode | Promise<MstNode> {
    const key = link.$link;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const got = this.source.get(key);
    if (got instanceof Promise) return got.then((bytes) => this.#decode(link, key, bytes));
    return this.#decode(link, key, got);
  }

  /**
   * Caches nodes a write just built, so the next commit finds its path decoded. They are cached
   * flattened (children as links), so the cache never holds a chain of older in-memory trees.
   */
  remember(nodes: Iterable<MstNode>): void {
    for (const node of nodes) {
      const flat = node.kids.some((kid) => kid instanceof MstNode)
        ? new MstNode(node.keys, node.vals, node.kids.map((kid) => (kid instanceof MstNode ? kid.cid : kid)), { bytes: node.bytes, cid: node.cid })
        : node;
      this.cache.set(node.cid.$link, flat);
    }
  }

  #decode(link: Link, key: string, bytes: Uint8Array | undefined): MstNode {
    if (bytes === undefined) throw new MissingBlockError(key);
    const node = decodeNode(bytes, link);
    this.cache.set(key, node);
    return node;
  }
}

/** An operation over the tree: it yields the link of each node it needs and is sent the node. */
export type Op<T> = Generator<Link, T, MstNode>;

/** Runs an operation synchronously for as long as the source answers synchronously. */
export function run<T>(store: NodeStore, op: Op<T>): MaybePromise<T> {
  let step = op.next();
  while (!step.done) {
    const got = store.load(step.value);
    if (got instanceof Promise) return finishAsync(store, op, got);
    step = op.next(got);
  }
  return step.value;
}

async function finishAsync<T>(store: NodeStore, op: Op<T>, pending: Promise<MstNode>): Promise<T> {
  let step = op.next(await pending);
  while (!step.done) step = op.next(await store.load(step.value));
  return step.value;
}

/** Runs an operation that must not wait: for callers that know their source is synchronous. */
export function runSync<T>(store: NodeStore, op: Op<T>): T {
  const result = run(store, op);
  if (result instanceof Promise) {
    result.catch(() => {});
    throw new TypeError('the block source answered asynchronously; use the async form');
  }
  return result;
}

/** A walk that yields links to load (answered with the node) and values for its consumer. */
export type Walk<T> = Generator<Link | T, void, MstNode>;

function isLink(value: unknown): value is Link {
  return typeof value === 'object' && value !== null && 'bytes' in value && '$link' in value;
}

export function* drainSync<T>(store: NodeStore, walk: Walk<T>): Generator<T, void, undefined> {
  let step = walk.next();
  while (!step.done) {
    const value = step.value;
    if (isLink(value)) {
      const got = store.load(value);
      if (got instanceof Promise) {
        got.catch(() => {});
        throw new TypeError('the block source answered asynchronously; use the async form');
      }
      step = walk.next(got);
    } else {
      yield value as T;
      step = walk.next();
    }
  }
}

export async function* drainAsync<T>(store: NodeStore, walk: Walk<T>): AsyncGenerator<T, void, undefined> {
  let step = walk.next();
  while (!step.done) {
    const value = step.value;
    if (isLink(value)) {
      step = walk.next(await store.load(value));
    } else {
      yield value as T;
      step = walk.next();
    }
  }
}

/**
 * The node behind a child slot, checked for the layer it sits at. A stored child comes from the
 * cache or, through `yield`, from the runner; in-memory children are ours and already sound.
 */
export function* loadChild(store: NodeStore, ref: NodeRef, layer: number): Op<MstNode> {
  if (ref instanceof MstNode) return ref;
  const node = store.peek(ref) ?? (yield ref);
  if (node.checkedLayer !== layer) checkChild(store, node, layer);
  return node;
}

/** The rules every non-root node must meet; key heights only in strict mode (they cost a hash each). */
export function checkChild(store: NodeStore, node: MstNode, layer: number): void {
  const cid = node.sealed ? node.cid.$link : undefined;
  if (layer < 0) throw new MalformedNodeError('subtree below layer 0', cid);
  if (node.isEmpty) throw new MalformedNodeError('empty node below the root', cid);
  if (store.strict) {
    checkLayer(node, layer, cid);
    // remembered only after the full check, so a lenient store sharing the cache skips nothing
    node.checkedLayer = layer;
  }
}

export function checkLayer(node: MstNode, layer: number, cid?: string): void {
  for (const key of node.keys) {
    const height = keyHeight(key);
    if (height !== layer) throw new MalformedNodeError(`key ${key} of height ${height} at layer ${layer}`, cid);
  }
  if (layer === 0) {
    for (const kid of node.kids) if (kid !== null) throw new MalformedNodeError('layer 0 node with a subtree', cid);
  }
}
