import { carBytesSync } from '../ipld/car.ts';
import {
  CBOR_FALSE,
  CBOR_NULL,
  checkWritten,
  headerSize,
  linkOrNullSize,
  linkSize,
  stringSize,
  textItem,
  utf8Length,
  writeBytes,
  writeHeader,
  writeLink,
  writeLinkOrNull,
  writeRaw,
  writeText,
} from '../ipld/cbor-writer.ts';
import type { EventEncoder } from '../sync/sequencer-log.ts';
import type { RecordOp, WriteBatchResult } from './write-batch.ts';

/**
 * The `#commit` firehose event of a commit, as the encoder the sequencer calls once it has chosen
 * the event's seq and time: `{seq, rebase: false, tooBig: false, repo, commit, rev, since, blocks,
 * ops, blobs: [], prevData?, time}` (com.atproto.sync.subscribeRepos#commit), with the commit, the
 * covering proof and the written records in `blocks` as a CAR.
 */
export function commitEvent(result: WriteBatchResult): EventEncoder {
  const car = carBytesSync(result.cid, result.firehoseBlocks.values());
  return (seq, time) => encodeCommitEvent(result, car, seq, time);
}

// The event's DAG-CBOR, written directly (ipld/cbor-writer.ts): keys in canonical order, shorter
// first, then bytewise. commit-event.test.ts holds it to the generic encoder's bytes.
const KEY = {
  ops: textItem('ops'),
  rev: textItem('rev'),
  seq: textItem('seq'),
  repo: textItem('repo'),
  time: textItem('time'),
  blobs: textItem('blobs'),
  since: textItem('since'),
  blocks: textItem('blocks'),
  commit: textItem('commit'),
  rebase: textItem('rebase'),
  tooBig: textItem('tooBig'),
  prevData: textItem('prevData'),
  // an op: cid, path, prev, action
  cid: textItem('cid'),
  path: textItem('path'),
  prev: textItem('prev'),
  action: textItem('action'),
};
const ACTION = { create: textItem('create'), update: textItem('update'), delete: textItem('delete') };

function encodeCommitEvent(result: WriteBatchResult, car: Uint8Array, seq: number, time: string): Uint8Array {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq ${seq} is not a non-negative safe integer`);
  const rev = utf8Length(result.rev);
  const repo = utf8Length(result.did);
  const at = utf8Length(time);
  const since = result.since === null ? 0 : utf8Length(result.since);
  const paths = result.ops.map((op) => utf8Length(op.path));
  let size = 1 + KEY.ops.length + headerSize(result.ops.length);
  result.ops.forEach((op, i) => (size += opSize(op, paths[i])));
  size += KEY.rev.length + stringSize(rev) + KEY.seq.length + headerSize(seq);
  size += KEY.repo.length + stringSize(repo) + KEY.time.length + stringSize(at);
  size += KEY.blobs.length + 1 + KEY.since.length + (result.since === null ? 1 : stringSize(since));
  size += KEY.blocks.length + stringSize(car.length) + KEY.commit.length + linkSize(result.cid.bytes);
  size += KEY.rebase.length + 1 + KEY.tooBig.length + 1;
  if (result.prevData !== null) size += KEY.prevData.length + linkSize(result.prevData.bytes);

  // stored by the sequencer and dropped: Node's pooled allocation, not a zeroed buffer of its own
  const out: Uint8Array = Buffer.allocUnsafe(size);
  let pos = writeHeader(out, 0, 5, result.prevData === null ? 11 : 12);
  pos = writeHeader(out, writeRaw(out, pos, KEY.ops), 4, result.ops.length);
  result.ops.forEach((op, i) => (pos = writeOp(out, pos, op, paths[i])));
  pos = writeText(out, writeRaw(out, pos, KEY.rev), result.rev, rev);
  pos = writeHeader(out, writeRaw(out, pos, KEY.seq), 0, seq);
  pos = writeText(out, writeRaw(out, pos, KEY.repo), result.did, repo);
  pos = writeText(out, writeRaw(out, pos, KEY.time), time, at);
  pos = writeRaw(out, pos, KEY.blobs);
  out[pos++] = 0x80; // []
  pos = writeRaw(out, pos, KEY.since);
  if (result.since === null) out[pos++] = CBOR_NULL;
  else pos = writeText(out, pos, result.since, since);
  pos = writeBytes(out, writeRaw(out, pos, KEY.blocks), car);
  pos = writeLink(out, writeRaw(out, pos, KEY.commit), result.cid.bytes);
  pos = writeRaw(out, pos, KEY.rebase);
  out[pos++] = CBOR_FALSE;
  pos = writeRaw(out, pos, KEY.tooBig);
  out[pos++] = CBOR_FALSE;
  if (result.prevData !== null) pos = writeLink(out, writeRaw(out, pos, KEY.prevData), result.prevData.bytes);
  checkWritten('#commit event', pos, size);
  return out;
}

function opSize(op: RecordOp, path: number): number {
  let size = 1 + KEY.cid.length + linkOrNullSize(op.cid && op.cid.bytes) + KEY.path.length + stringSize(path);
  if (op.prev !== null) size += KEY.prev.length + linkSize(op.prev.bytes);
  return size + KEY.action.length + ACTION[op.action].length;
}

function writeOp(out: Uint8Array, pos: number, op: RecordOp, path: number): number {
  out[pos++] = op.prev === null ? 0xa3 : 0xa4;
  pos = writeLinkOrNull(out, writeRaw(out, pos, KEY.cid), op.cid && op.cid.bytes);
  pos = writeText(out, writeRaw(out, pos, KEY.path), op.path, path);
  if (op.prev !== null) pos = writeLink(out, writeRaw(out, pos, KEY.prev), op.prev.bytes);
  return writeRaw(out, writeRaw(out, pos, KEY.action), ACTION[op.action]);
}
