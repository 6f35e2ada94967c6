import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { carBytesSync, type CarBlockBytes } from '../ipld/car.ts';
import { encodeCbor, toBytes } from '../ipld/cbor.ts';
import { cidForCbor, toLink, type Cid } from '../ipld/cid.ts';
import { commitEvent } from './commit-event.ts';
import type { RecordOp, WriteBatchResult } from './write-batch.ts';

const cid = (label: string): Cid => cidForCbor(new TextEncoder().encode(label));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** The event as the sequencer encoded it before: the generic encoder over the event's fields. */
function genericEvent(result: WriteBatchResult, seq: number, time: string): Uint8Array {
  const car = carBytesSync(result.cid, result.firehoseBlocks.values());
  return encodeCbor({
    repo: result.did,
    commit: toLink(result.cid),
    rev: result.rev,
    since: result.since,
    blocks: toBytes(car),
    ops: result.ops.map((op) => ({ action: op.action, path: op.path, cid: op.cid ? toLink(op.cid) : null, ...(op.prev ? { prev: toLink(op.prev) } : {}) })),
    ...(result.prevData ? { prevData: toLink(result.prevData) } : {}),
    blobs: [],
    rebase: false,
    tooBig: false,
    seq,
    time,
  });
}

function result(opts: { ops: RecordOp[]; since: string | null; prevData: Cid | null; blockBytes: number; did?: string }): WriteBatchResult {
  const commit = cid('commit');
  const blocks = new Map<string, CarBlockBytes>([[String(commit), { cid: commit, bytes: new Uint8Array(opts.blockBytes).fill(7) }]]);
  return {
    did: opts.did ?? 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
    cid: commit,
    rev: '3lbkuudsw6k2e',
    since: opts.since,
    prevData: opts.prevData,
    ops: opts.ops,
    firehoseBlocks: blocks,
  } as unknown as WriteBatchResult;
}

const op = (i: number): RecordOp => {
  const action = (['create', 'update', 'delete'] as const)[i % 3];
  return {
    action,
    path: `app.bsky.feed.post/3lbkuudsw${String(i).padStart(4, '0')}`,
    cid: action === 'delete' ? null : cid(`record ${i}`),
    prev: action === 'create' ? null : cid(`old record ${i}`),
  };
};

describe('the #commit event', () => {
  it('writes the bytes the generic DAG-CBOR encoder writes, for every shape of event', () => {
    let checked = 0;
    for (const ops of [[op(0)], [op(1)], [op(2)], Array.from({ length: 30 }, (_, i) => op(i)), []]) {
      for (const since of [null, '3lbkuudsw6k2d']) {
        for (const prevData of [null, cid('previous root')]) {
          for (const blockBytes of [10, 300, 70_000]) {
            for (const seq of [0, 23, 24, 255, 256, 65_536, 2 ** 32, 2 ** 53 - 1]) {
              const r = result({ ops, since, prevData, blockBytes });
              const time = '2026-12-05T17:30:00.000Z';
              assert.equal(hex(commitEvent(r)(seq, time)), hex(genericEvent(r, seq, time)), `${ops.length} ops, since ${since}, seq ${seq}`);
              checked++;
            }
          }
        }
      }
    }
    assert.equal(checked, 480);
  });

  it('writes DIDs and times longer than the short forms of a length', () => {
    const r = result({ ops: [op(0)], since: null, prevData: null, blockBytes: 10, did: `did:web:${'x'.repeat(300)}.example` });
    assert.equal(hex(commitEvent(r)(7, 'a'.repeat(40))), hex(genericEvent(r, 7, 'a'.repeat(40))));
  });

  it('refuses a seq that is not a non-negative safe integer', () => {
    const encode = commitEvent(result({ ops: [op(0)], since: null, prevData: null, blockBytes: 10 }));
    for (const seq of [-1, 1.5, 2 ** 53, Number.NaN]) assert.throws(() => encode(seq, '2026-12-05T17:30:00.000Z'), RangeError);
  });
});
