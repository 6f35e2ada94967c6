import { toBytes } from '../ipld/cbor.ts';
import { carBytesSync } from '../ipld/car.ts';
import { toLink } from '../ipld/cid.ts';
import type { WriteBatchResult } from './write-batch.ts';

/** The `#commit` firehose event of a commit (seq and time are added by the sequencer). */
export function commitEvent(result: WriteBatchResult): Record<string, unknown> {
  const car = carBytesSync(result.cid, result.firehoseBlocks.values());
  return {
    repo: result.did,
    commit: toLink(result.cid),
    rev: result.rev,
    since: result.since,
    blocks: toBytes(car),
    ops: result.ops.map((op) => ({
      action: op.action,
      path: op.path,
      cid: op.cid ? toLink(op.cid) : null,
      ...(op.prev ? { prev: toLink(op.prev) } : {}),
    })),
    ...(result.prevData ? { prevData: toLink(result.prevData) } : {}),
    blobs: [],
    rebase: false,
    tooBig: false,
  };
}
