export { Mst, type LeafRange, type MstOptions } from './mst.ts';
export type { MstDiff } from './diff.ts';
export type { NodeChanges } from './node-diff.ts';
export type { Leaf, TreeBlock } from './read.ts';
export { MstNode, decodeNode, encodeNode, emptyNode, type NodeRef } from './node.ts';
export { NodeCache, NodeStore, type BlockSource, type MaybePromise } from './store.ts';
export { keyHeight, commonPrefixLength, checkKey, keyProblem, MAX_KEY_LENGTH } from './key.ts';
export { linkForCbor, linkEquals, linkToCidObject, parseLink, toLink, isCidBytes, type Link, type LinkLike } from './link.ts';
export * from './errors.ts';
