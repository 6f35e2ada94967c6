import { loadChildAnyLayer, loadRoot } from './mutate.ts';
import { MstNode, type NodeRef } from './node.ts';
import { refLink } from './read.ts';
import type { NodeStore, Op } from './store.ts';

/** The nodes a write added to a tree and the ones it dropped, by CID: what storage needs. */
export interface NodeChanges {
  /** Nodes of the new tree that the old one lacks (their bytes are `node.bytes`). */
  newNodes: Map<string, MstNode>;
  /** CIDs of the old tree's nodes that the new one no longer has. */
  removedNodes: Set<string>;
}

/**
 * The node-level part of `diffOp`, for a tree that `to` was made from by path copying (add,
 * update, delete): only the nodes, not the leaves, so nothing is compared key by key.
 *
 * A write builds its new nodes in memory and reuses every untouched subtree, mostly as a link,
 * sometimes as the node object itself (the old root under a new, taller root). So the new tree's
 * in-memory nodes, reached from its root through in-memory children, are the candidates, and the
 * links they hold are the subtrees the new tree keeps. The old tree is then walked from its root:
 * a node the new tree holds (as a link or as a candidate) is kept, whole subtree and all, and
 * not opened; any other node is gone, and its children are looked at in turn. Only a child of a
 * node that is gone can be gone (a kept node's subtree is kept whole), and a subtree cannot be
 * both kept and moved, since a tree holds each key once: so the walk opens the old nodes on the
 * written paths and nothing else. A candidate that is an old node (a reused object, or a node
 * rebuilt identical to the one it replaces) is not new, nor is anything below it.
 */
export function* nodeChangesOp(store: NodeStore, from: NodeRef, to: NodeRef): Op<NodeChanges> {
  const changes: NodeChanges = { newNodes: new Map(), removedNodes: new Set() };
  if (from === to || refLink(from).$link === refLink(to).$link) return changes;

  const candidates = new Map<string, MstNode>();
  const keptLinks = new Set<string>();
  if (to instanceof MstNode) collect(to, candidates, keptLinks);
  else keptLinks.add(to.$link);

  const old = yield* loadRoot(store, from);
  const stack: MstNode[] = [old.node];
  const existing: MstNode[] = [];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const cid = node.cid.$link;
    const candidate = candidates.get(cid);
    if (candidate !== undefined) {
      existing.push(candidate);
      continue;
    }
    if (keptLinks.has(cid)) continue;
    changes.removedNodes.add(cid);
    for (const kid of node.kids) if (kid !== null) stack.push(yield* loadChildAnyLayer(store, kid));
  }
  for (const node of existing) forgetSubtree(node, candidates);
  for (const [cid, node] of candidates) changes.newNodes.set(cid, node);
  return changes;
}

/** The in-memory nodes of a tree under `node` (itself included), and the links they hold. */
function collect(node: MstNode, candidates: Map<string, MstNode>, links: Set<string>): void {
  const stack = [node];
  while (stack.length > 0) {
    const next = stack.pop()!;
    candidates.set(next.cid.$link, next);
    for (const kid of next.kids) {
      if (kid === null) continue;
      if (kid instanceof MstNode) stack.push(kid);
      else links.add(kid.$link);
    }
  }
}

/** Drops `node` and the in-memory nodes below it from the candidates: an old subtree, all there already. */
function forgetSubtree(node: MstNode, candidates: Map<string, MstNode>): void {
  const stack = [node];
  while (stack.length > 0) {
    const next = stack.pop()!;
    candidates.delete(next.cid.$link);
    for (const kid of next.kids) if (kid instanceof MstNode) stack.push(kid);
  }
}
