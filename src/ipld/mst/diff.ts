import { linkEquals, type Link } from './link.ts';
import { loadRoot } from './mutate.ts';
import { MstNode, type NodeRef } from './node.ts';
import { refLink } from './read.ts';
import { loadChild, type NodeStore, type Op } from './store.ts';

export interface MstDiff {
  adds: Array<{ key: string; cid: Link }>;
  updates: Array<{ key: string; prev: Link; cid: Link }>;
  deletes: Array<{ key: string; prev: Link }>;
  /** Nodes of the new tree that the old one lacks, by CID (their bytes are `node.bytes`). */
  newNodes: Map<string, MstNode>;
  /** CIDs of the old tree's nodes that the new one no longer has. */
  removedNodes: Set<string>;
}

class TreeItem {
  constructor(
    readonly ref: NodeRef,
    readonly layer: number,
  ) {}
}

class LeafItem {
  constructor(
    readonly key: string,
    readonly value: Link,
  ) {}
}

type Item = TreeItem | LeafItem;

function sameTree(a: TreeItem, b: TreeItem): boolean {
  return a.ref === b.ref || linkEquals(refLink(a.ref), refLink(b.ref));
}

/**
 * Compares two trees as two in-order streams of leaves and unopened subtrees. Subtrees with the
 * same CID hold the same keys and are skipped whole; a subtree is opened only when set against
 * something different, the higher layer first, so only changed regions are read. Results are in
 * key order.
 */
export function* diffOp(store: NodeStore, from: NodeRef, to: NodeRef): Op<MstDiff> {
  const a = yield* loadRoot(store, from);
  const b = yield* loadRoot(store, to);
  const result: MstDiff = { adds: [], updates: [], deletes: [], newNodes: new Map(), removedNodes: new Set() };
  const openedA = new Map<string, MstNode>();
  const openedB = new Map<string, MstNode>();
  const sa: Item[] = [new TreeItem(a.node, a.layer)];
  const sb: Item[] = [new TreeItem(b.node, b.layer)];

  function* open(stack: Item[], opened: Map<string, MstNode>, root: MstNode): Op<void> {
    const item = stack.pop() as TreeItem;
    const node = item.ref === root ? root : yield* loadChild(store, item.ref, item.layer);
    opened.set(node.cid.$link, node);
    // pushed last-first so the stack's top is the node's first slot
    for (let i = node.keys.length; i >= 0; i--) {
      const kid = node.kids[i];
      if (kid !== null) stack.push(new TreeItem(kid, item.layer - 1));
      if (i > 0) stack.push(new LeafItem(node.keys[i - 1], node.vals[i - 1]));
    }
  }

  for (;;) {
    const ta = sa.length > 0 ? sa[sa.length - 1] : undefined;
    const tb = sb.length > 0 ? sb[sb.length - 1] : undefined;
    if (ta === undefined && tb === undefined) break;
    if (ta instanceof TreeItem && tb instanceof TreeItem) {
      if (sameTree(ta, tb)) {
        sa.pop();
        sb.pop();
        continue;
      }
      const openA = ta.layer >= tb.layer;
      const openB = tb.layer >= ta.layer;
      if (openA) yield* open(sa, openedA, a.node);
      if (openB) yield* open(sb, openedB, b.node);
      continue;
    }
    if (ta instanceof TreeItem) {
      // a leaf that sits right before this very subtree in the other tree is simply new there
      const after = sb.length > 1 ? sb[sb.length - 2] : undefined;
      if (tb instanceof LeafItem && after instanceof TreeItem && sameTree(after, ta)) {
        result.adds.push({ key: tb.key, cid: tb.value });
        sb.pop();
      } else {
        yield* open(sa, openedA, a.node);
      }
      continue;
    }
    if (tb instanceof TreeItem) {
      const after = sa.length > 1 ? sa[sa.length - 2] : undefined;
      if (ta instanceof LeafItem && after instanceof TreeItem && sameTree(after, tb)) {
        result.deletes.push({ key: ta.key, prev: ta.value });
        sa.pop();
      } else {
        yield* open(sb, openedB, b.node);
      }
      continue;
    }
    if (tb === undefined) {
      result.deletes.push({ key: ta!.key, prev: ta!.value });
      sa.pop();
    } else if (ta === undefined) {
      result.adds.push({ key: tb.key, cid: tb.value });
      sb.pop();
    } else if (ta.key === tb.key) {
      if (!linkEquals(ta.value, tb.value)) result.updates.push({ key: ta.key, prev: ta.value, cid: tb.value });
      sa.pop();
      sb.pop();
    } else if (ta.key < tb.key) {
      result.deletes.push({ key: ta.key, prev: ta.value });
      sa.pop();
    } else {
      result.adds.push({ key: tb.key, cid: tb.value });
      sb.pop();
    }
  }

  for (const [cid, node] of openedB) if (!openedA.has(cid)) result.newNodes.set(cid, node);
  for (const cid of openedA.keys()) if (!openedB.has(cid)) result.removedNodes.add(cid);
  // two roots that are the same tree are never opened; two empty roots neither
  return result;
}
