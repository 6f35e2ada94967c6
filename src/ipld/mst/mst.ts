import { diffOp, type MstDiff } from './diff.ts';
import { nodeChangesOp, type NodeChanges } from './node-diff.ts';
import { checkKey } from './key.ts';
import { toLink, type Link, type LinkLike } from './link.ts';
import { addOp, deleteOp, loadRoot, updateOp } from './mutate.ts';
import { emptyNode, MstNode, type NodeRef } from './node.ts';
import { blocksWalk, getOp, leavesWalk, proofOp, refLink, type Leaf, type TreeBlock } from './read.ts';
import { drainAsync, drainSync, NodeCache, NodeStore, run, type BlockSource, type MaybePromise } from './store.ts';

export interface MstOptions {
  /** Decoded nodes to reuse across trees of the same repo (one per repo is plenty). */
  cache?: NodeCache;
  /** Check every node's key heights as it is read: for trees from untrusted sources. */
  strict?: boolean;
}

export interface LeafRange {
  /** First key to include. */
  from?: string;
  /** First key past the range (excluded). */
  to?: string;
  /** Only keys starting with this, e.g. `app.bsky.feed.post/`. */
  prefix?: string;
}

/**
 * A Merkle Search Tree: an immutable value. `add`, `update` and `delete` return a new tree that
 * shares every untouched subtree with this one (path copying). Methods return synchronously
 * when the block source does and a Promise only when it does not; `await` works either way.
 */
export class Mst {
  private constructor(
    readonly store: NodeStore,
    readonly root: NodeRef,
  ) {}

  static empty(source: BlockSource, options: MstOptions = {}): Mst {
    return new Mst(storeFor(source, options), emptyNode());
  }

  static load(source: BlockSource, root: LinkLike, options: MstOptions = {}): Mst {
    return new Mst(storeFor(source, options), toLink(root));
  }

  /** A tree over the same store (and cache) as this one, at another root. */
  at(root: LinkLike | MstNode): Mst {
    return new Mst(this.store, root instanceof MstNode ? root : toLink(root));
  }

  /** The root CID; hashes the in-memory nodes of the tree on first call, once. */
  get cid(): Link {
    return refLink(this.root);
  }

  get(key: string): MaybePromise<Link | null> {
    return run(this.store, getOp(this.store, this.root, key));
  }

  /** Inserts a key; throws KeyExistsError if it is there already. */
  add(key: string, value: LinkLike): MaybePromise<Mst> {
    checkKey(key);
    return this.#next(run(this.store, addOp(this.store, this.root, key, toLink(value))));
  }

  /** Replaces a key's value; throws KeyNotFoundError if it is absent. */
  update(key: string, value: LinkLike): MaybePromise<Mst> {
    return this.#next(run(this.store, updateOp(this.store, this.root, key, toLink(value))));
  }

  /** Removes a key; throws KeyNotFoundError if it is absent. */
  delete(key: string): MaybePromise<Mst> {
    return this.#next(run(this.store, deleteOp(this.store, this.root, key)));
  }

  #next(root: MaybePromise<MstNode>): MaybePromise<Mst> {
    if (root instanceof Promise) return root.then((node) => this.#wrap(node));
    return this.#wrap(root);
  }

  #wrap(node: MstNode): Mst {
    return node === this.root ? this : new Mst(this.store, node);
  }

  /** Leaves in key order within a range, for a synchronous block source. */
  leaves(range: LeafRange = {}): Iterable<Leaf> {
    const [from, to] = bounds(range);
    return drainSync(this.store, leavesWalk(this.store, this.root, from, to));
  }

  leavesAsync(range: LeafRange = {}): AsyncIterable<Leaf> {
    const [from, to] = bounds(range);
    return drainAsync(this.store, leavesWalk(this.store, this.root, from, to));
  }

  /** Every node and record link in the spec's streamable CAR order (node, then its slots). */
  blocks(): Iterable<TreeBlock> {
    return drainSync(this.store, blocksWalk(this.store, this.root));
  }

  blocksAsync(): AsyncIterable<TreeBlock> {
    return drainAsync(this.store, blocksWalk(this.store, this.root));
  }

  /** What changed from `base` to this tree, reading only the subtrees whose CIDs differ. */
  diffFrom(base: Mst): MaybePromise<MstDiff> {
    return run(this.store, diffOp(this.store, base.root, this.root));
  }

  /**
   * The nodes this tree added and dropped since `base`, for a tree made from `base` by its
   * add/update/delete (see node-diff.ts): `diffFrom`'s `newNodes` and `removedNodes`, without
   * comparing leaves.
   */
  nodeChangesFrom(base: Mst): MaybePromise<NodeChanges> {
    return run(this.store, nodeChangesOp(this.store, base.root, this.root));
  }

  /**
   * The nodes proving each key's presence or absence in this tree, and enough of the tree to
   * add or remove it again (what a relay needs to invert a commit's operations), by CID. Always
   * holds the root node.
   */
  proof(keys: Iterable<string>, into: Map<string, MstNode> = new Map()): MaybePromise<Map<string, MstNode>> {
    const store = this.store;
    const root = this.root;
    const all = [...keys];
    function* op() {
      // the root is in every proof, even of no keys: a commit event always carries it
      const top = yield* loadRoot(store, root);
      into.set(top.node.cid.$link, top.node);
      for (const key of all) yield* proofOp(store, root, key, into);
      return into;
    }
    return run(store, op());
  }

  /** The root node and its layer (-1 for an empty tree). */
  rootNode(): MaybePromise<{ node: MstNode; layer: number }> {
    return run(this.store, loadRoot(this.store, this.root));
  }
}

function storeFor(source: BlockSource, options: MstOptions): NodeStore {
  return new NodeStore(source, options.cache ?? new NodeCache(), options.strict ?? false);
}

// Keys are ASCII path characters, so U+007F sorts after every key that has the prefix.
function bounds(range: LeafRange): [string | undefined, string | undefined] {
  let { from, to } = range;
  if (range.prefix !== undefined) {
    if (from === undefined || from < range.prefix) from = range.prefix;
    const end = range.prefix + '\u007f';
    if (to === undefined || to > end) to = end;
  }
  return [from, to];
}
