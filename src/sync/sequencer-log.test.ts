import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { Database, migrate, migrations } from '../db/index.ts';
import { decodeCbor } from '../ipld/cbor.ts';
import { SequencerLog } from './sequencer-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'squall-'));
let db: Database;
let log: SequencerLog;
let n = 0;

beforeEach(() => {
  db = new Database(join(dir, `seq-${n++}.sqlite`));
  migrate(db, migrations);
  log = new SequencerLog(db);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const append = (did: string) => db.transaction(() => log.append(did, 'identity', { did }, '2024-01-01T00:00:00.000Z'));

describe('SequencerLog', () => {
  it('numbers events from 1 upwards, each stored with its own seq and time inside', () => {
    assert.deepEqual([append('did:plc:a'), append('did:plc:b'), append('did:plc:a')], [1, 2, 3]);
    const events = log.readAfter(0, 10);
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3]);
    for (const event of events) {
      assert.deepEqual(decodeCbor(event.encoded), { did: event.did, seq: event.seq, time: '2024-01-01T00:00:00.000Z' });
    }
    assert.equal(log.latestSeq(), 3);
  });

  it('never hands out a seq again after the events holding it were pruned', () => {
    append('did:plc:a');
    append('did:plc:a');
    assert.equal(log.prune(new Date('2030-01-01')), 2);
    assert.equal(log.latestSeq(), 0);
    assert.equal(append('did:plc:a'), 3);
  });

  it('an event rolled back with its savepoint leaves neither a row nor a gap in the numbering', () => {
    append('did:plc:a');
    db.transaction(() => {
      assert.throws(() =>
        db.savepoint(() => {
          log.append('did:plc:gone', 'identity', { did: 'did:plc:gone' });
          throw new Error('write failed');
        }),
      );
      log.append('did:plc:b', 'identity', { did: 'did:plc:b' });
    });
    const events = log.readAfter(0, 10);
    assert.deepEqual(events.map((e) => [e.seq, e.did]), [[1, 'did:plc:a'], [2, 'did:plc:b']]);
    assert.equal((decodeCbor(events[1].encoded) as { seq: number }).seq, 2);
  });

  it('refuses to append outside a transaction', () => {
    assert.throws(() => log.append('did:plc:a', 'identity', {}), /inside the write transaction/);
  });
});
