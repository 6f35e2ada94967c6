import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Database, migrate, migrations } from '../db/index.ts';
import { Firehose, type FirehoseMessage } from './firehose.ts';
import { SequencerLog } from './sequencer-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'squall-firehose-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function setup(options: { bufferSize?: number; bufferBytes?: number; pageSize?: number } = {}) {
  const db = new Database(join(dir, `f-${n++}.sqlite`));
  migrate(db, migrations);
  const log = new SequencerLog(db);
  const firehose = new Firehose(log, options);
  /** Appends `count` durable events with bodies of `size` bytes and tells the firehose. */
  const write = (count: number, size = 10) => {
    let seq = 0;
    for (let i = 0; i < count; i++) seq = db.transaction(() => log.append('did:plc:a', 'identity', { did: 'did:plc:a', pad: 'x'.repeat(size) }));
    firehose.advance(seq);
  };
  return { db, firehose, write };
}

async function take(stream: AsyncGenerator<FirehoseMessage>, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for await (const message of stream) {
    if (message.type !== '#info') seqs.push(message.seq);
    if (seqs.length === count) break;
  }
  return seqs;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Firehose buffer', () => {
  it('buffers nothing while nobody subscribes, and a later cursor still gets every event from the log', async () => {
    const { db, firehose, write } = setup();
    write(50);
    await tick();
    assert.equal(firehose.head, 50);
    assert.deepEqual(firehose.buffered, { events: 0, bytes: 0 });
    const controller = new AbortController();
    assert.deepEqual(await take(firehose.subscribe(0, controller.signal), 50), Array.from({ length: 50 }, (_, i) => i + 1));
    controller.abort();
    db.close();
  });

  it('serves a live subscriber every event, in order, when the buffer is bounded to a few events by bytes', async () => {
    const { db, firehose, write } = setup({ bufferBytes: 2_000 });
    const controller = new AbortController();
    const received = take(firehose.subscribe(undefined, controller.signal), 200);
    await tick();
    let most = 0;
    for (let i = 0; i < 20; i++) {
      write(10, 500);
      await tick();
      most = Math.max(most, firehose.buffered.bytes);
    }
    assert.deepEqual(await received, Array.from({ length: 200 }, (_, i) => i + 1));
    // Trimmed after each read: at most the bound plus the ten events of the last write.
    assert.ok(most > 0 && most <= 2_000 + 10 * 600, `buffer held ${most} bytes`);
    controller.abort();
    db.close();
  });

  it('lets a subscriber that fell behind the bounded buffer catch up from the log', async () => {
    const { db, firehose, write } = setup({ bufferSize: 5, bufferBytes: 1_000 });
    const live = new AbortController();
    const keepsBufferFilled = take(firehose.subscribe(undefined, live.signal), 100);
    await tick();
    write(100, 200);
    await keepsBufferFilled;
    const late = new AbortController();
    assert.deepEqual(await take(firehose.subscribe(10, late.signal), 90), Array.from({ length: 90 }, (_, i) => i + 11));
    live.abort();
    late.abort();
    db.close();
  });
});

describe('Firehose backfill', () => {
  it('reads one page per turn of the event loop, so other work runs between pages', async () => {
    // The live buffer holds only the last two events, so a cursor of 0 is served from the log.
    const { db, firehose, write } = setup({ pageSize: 2, bufferSize: 2 });
    write(10);
    let otherWorkRan = false;
    setImmediate(() => (otherWorkRan = true));
    let beforeOtherWork = 0;
    const seqs: number[] = [];
    for await (const message of firehose.subscribe(0, new AbortController().signal)) {
      if (!otherWorkRan) beforeOtherWork++;
      if (message.type !== '#info') seqs.push(message.seq);
      if (seqs.length === 10) break;
    }
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every event, in order, once');
    assert.equal(beforeOtherWork, 2, 'only the first page was sent before the event loop had a turn');
    firehose.close();
    db.close();
  });
});
