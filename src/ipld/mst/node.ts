import { CidLinkWrapper } from '@atcute/cid';
import { checkWritten, headerSize, linkOrNullSize, writeHeader, writeLinkOrNull } from '../cbor-writer.ts';
import { MalformedNodeError } from './errors.ts';
import { commonPrefixLength, keyHeight, keyProblem } from './key.ts';
import { isBlessedNodeCid, isCidBytes, linkForCbor, type Link } from './link.ts';

/** A child slot: a stored subtree by CID, or a node built in memory and not yet written. */
export type NodeRef = Link | MstNode;

/**
 * One MST node, immutable. `kids` has one slot more than `keys`: `kids[0]` is the spec's `l`
 * (keys before `keys[0]`) and `kids[i + 1]` is entry i's `t` (keys between `keys[i]` and
 * `keys[i + 1]`). Full keys are kept; prefix compression exists only in the encoding.
 * Bytes and CID are computed on first use and kept, so an untouched node is never re-hashed.
 */
export class MstNode {
  #bytes: Uint8Array | undefined;
  #cid: Link | undefined;
  #firstKeyLayer = -1;
  /** The layer this node was checked to sit at, so a strict walk hashes its keys only once. */
  checkedLayer = -1;

  constructor(
    readonly keys: readonly string[],
    readonly vals: readonly Link[],
    readonly kids: readonly (NodeRef | null)[],
    stored?: { bytes: Uint8Array; cid: Link },
  ) {
    if (stored) {
      this.#bytes = stored.bytes;
      this.#cid = stored.cid;
    }
  }

  /** The node's canonical DAG-CBOR; building it computes the CIDs of in-memory children first. */
  get bytes(): Uint8Array {
    return (this.#bytes ??= encodeNode(this));
  }

  get cid(): Link {
    return (this.#cid ??= linkForCbor(this.bytes));
  }

  /**
   * The layer of the first key (a SHA-256 of it, computed once per node): the layer a node with
   * entries sits at. A write loads its root several times (diff, insert, proof); one hash serves all.
   */
  get firstKeyLayer(): number {
    if (this.#firstKeyLayer < 0) this.#firstKeyLayer = keyHeight(this.keys[0]);
    return this.#firstKeyLayer;
  }

  /** True once bytes exist (decoded from a block, or encoded since): the CID is then cheap. */
  get sealed(): boolean {
    return this.#bytes !== undefined;
  }

  /** No entries and no children: only valid as the root of an empty tree. */
  get isEmpty(): boolean {
    return this.keys.length === 0 && this.kids[0] === null;
  }
}

export const EMPTY_NODE_KIDS: readonly (NodeRef | null)[] = Object.freeze([null]);

export function emptyNode(): MstNode {
  return new MstNode([], [], EMPTY_NODE_KIDS);
}

// ---- encoding -------------------------------------------------------------------------------
// The node schema is fixed, so its DAG-CBOR is written directly (ipld/cbor-writer.ts): map keys in
// canonical order ("e" < "l"; "k" < "p" < "t" < "v"), minimal lengths.

/** The CID bytes a slot links, null for an empty one. */
function refBytes(ref: NodeRef | null): Uint8Array | null {
  return ref === null ? null : ref instanceof MstNode ? ref.cid.bytes : ref.bytes;
}

function refSize(ref: NodeRef | null): number {
  return linkOrNullSize(refBytes(ref));
}

function writeRef(out: Uint8Array, pos: number, ref: NodeRef | null): number {
  return writeLinkOrNull(out, pos, refBytes(ref));
}

export function encodeNode(node: MstNode): Uint8Array {
  const { keys, vals, kids } = node;
  const n = keys.length;
  const prefixes = new Array<number>(n);
  let size = 1 + 2 + headerSize(n) + 2 + refSize(kids[0]);
  for (let i = 0; i < n; i++) {
    const p = i === 0 ? 0 : commonPrefixLength(keys[i - 1], keys[i]);
    prefixes[i] = p;
    const suffix = keys[i].length - p;
    size += 1 + 2 + headerSize(suffix) + suffix + 2 + headerSize(p) + 2 + refSize(kids[i + 1]) + 2 + refSize(vals[i]);
  }
  const out = new Uint8Array(size);
  out[0] = 0xa2;
  out[1] = 0x61;
  out[2] = 0x65; // "e"
  let pos = writeHeader(out, 3, 4, n);
  for (let i = 0; i < n; i++) {
    const key = keys[i];
    const p = prefixes[i];
    out[pos] = 0xa4;
    out[pos + 1] = 0x61;
    out[pos + 2] = 0x6b; // "k"
    pos = writeHeader(out, pos + 3, 2, key.length - p);
    for (let j = p; j < key.length; j++) out[pos++] = key.charCodeAt(j);
    out[pos] = 0x61;
    out[pos + 1] = 0x70; // "p"
    pos = writeHeader(out, pos + 2, 0, p);
    out[pos] = 0x61;
    out[pos + 1] = 0x74; // "t"
    pos = writeRef(out, pos + 2, kids[i + 1]);
    out[pos] = 0x61;
    out[pos + 1] = 0x76; // "v"
    pos = writeRef(out, pos + 2, vals[i]);
  }
  out[pos] = 0x61;
  out[pos + 1] = 0x6c; // "l"
  pos = writeRef(out, pos + 2, kids[0]);
  checkWritten('MST node', pos, size);
  return out;
}

// ---- decoding -------------------------------------------------------------------------------
// Accepts exactly the bytes `encodeNode` would write for some valid node, and nothing else: any
// other spelling (extra fields, non-minimal lengths, a shorter prefix than the keys share)
// would give the same tree a second CID.

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly cid: string | undefined) {}

  fail(message: string): never {
    throw new MalformedNodeError(`${message} at byte ${this.pos}`, this.cid);
  }

  byte(): number {
    if (this.pos >= this.buf.length) this.fail('unexpected end');
    return this.buf[this.pos++];
  }

  expect(b0: number, b1: number, what: string): void {
    if (this.byte() !== b0 || this.byte() !== b1) this.fail(`expected ${what}`);
  }

  /** A header of the given major type with a minimally encoded argument. */
  header(major: number): number {
    const first = this.byte();
    if (first >> 5 !== major) this.fail(`expected CBOR major type ${major}`);
    const info = first & 0x1f;
    if (info < 24) return info;
    let value: number;
    if (info === 24) {
      value = this.byte();
      if (value < 24) this.fail('non-minimal length');
    } else if (info === 25) {
      value = (this.byte() << 8) | this.byte();
      if (value < 0x100) this.fail('non-minimal length');
    } else if (info === 26) {
      value = ((this.byte() << 24) | (this.byte() << 16) | (this.byte() << 8) | this.byte()) >>> 0;
      if (value < 0x10000) this.fail('non-minimal length');
    } else {
      this.fail('unsupported length encoding');
    }
    return value;
  }

  link(nullable: boolean, node: boolean): Link | null {
    if (this.buf[this.pos] === 0xf6) {
      if (!nullable) this.fail('null where a CID is required');
      this.pos++;
      return null;
    }
    this.expect(0xd8, 42, 'a CID link (tag 42)');
    const n = this.header(2);
    if (n < 2 || this.pos + n > this.buf.length) this.fail('bad CID length');
    if (this.buf[this.pos] !== 0) this.fail('CID link without the 0x00 prefix');
    const bytes = this.buf.subarray(this.pos + 1, this.pos + n);
    if (node ? !isBlessedNodeCid(bytes) : !isCidBytes(bytes)) {
      this.fail(node ? 'subtree link is not a CIDv1 dag-cbor sha2-256' : 'value is not a CIDv1');
    }
    this.pos += n;
    return new CidLinkWrapper(bytes);
  }
}

/**
 * Decodes and checks one node: canonical encoding, ASCII keys in strictly increasing order,
 * prefix lengths exactly the shared prefix. Layers are checked by the walker, which knows them.
 */
export function decodeNode(bytes: Uint8Array, cid?: Link): MstNode {
  const r = new Reader(bytes, cid?.$link);
  if (r.byte() !== 0xa2) r.fail('expected a map of 2 fields (e, l)');
  r.expect(0x61, 0x65, 'field "e"');
  const n = r.header(4);
  if (n > bytes.length) r.fail('entry count beyond the block');
  const keys = new Array<string>(n);
  const vals = new Array<Link>(n);
  const kids = new Array<NodeRef | null>(n + 1);
  let prev = '';
  for (let i = 0; i < n; i++) {
    if (r.byte() !== 0xa4) r.fail('expected an entry map of 4 fields (k, p, t, v)');
    r.expect(0x61, 0x6b, 'field "k"');
    const len = r.header(2);
    if (r.pos + len > bytes.length) r.fail('key beyond the block');
    let suffix = '';
    for (let j = r.pos; j < r.pos + len; j++) suffix += String.fromCharCode(bytes[j]);
    r.pos += len;
    r.expect(0x61, 0x70, 'field "p"');
    const p = r.header(0);
    if (p > prev.length) r.fail('prefix longer than the previous key');
    const key = p === 0 ? suffix : prev.slice(0, p) + suffix;
    const problem = keyProblem(key);
    if (problem !== null) r.fail(`invalid key (${problem})`);
    if (i > 0 && !(prev < key)) r.fail('keys not in strictly increasing order');
    if (p !== (i === 0 ? 0 : commonPrefixLength(prev, key))) r.fail('prefix length is not the shared prefix');
    r.expect(0x61, 0x74, 'field "t"');
    kids[i + 1] = r.link(true, true);
    r.expect(0x61, 0x76, 'field "v"');
    vals[i] = r.link(false, false) as Link;
    keys[i] = key;
    prev = key;
  }
  r.expect(0x61, 0x6c, 'field "l"');
  kids[0] = r.link(true, true);
  if (r.pos !== bytes.length) r.fail('trailing bytes');
  return new MstNode(keys, vals, kids, { bytes, cid: cid ?? linkForCbor(bytes) });
}
