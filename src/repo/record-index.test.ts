import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Database, migrate, migrations } from '../db/index.ts';
import { RecordIndex } from './record-index.ts';

const dir = mkdtempSync(join(tmpdir(), 'squall-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DID = 'did:plc:recordindextest';
const OTHER = 'did:plc:someoneelse';
const COLLECTION = 'app.bsky.feed.post';

/** A migrated database with three records of DID (and one of another repo), and every SQL text the index prepares. */
function setUp(): { index: RecordIndex; db: Database; prepared: string[] } {
  const db = new Database(join(dir, `${Math.random().toString(36).slice(2)}.sqlite`));
  assert.equal(migrate(db, migrations).error, undefined);
  const prepared: string[] = [];
  const spy = new Proxy(db, {
    get(target, key) {
      if (key === 'prepare') return (sql: string) => (prepared.push(sql), target.prepare(sql));
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const index = new RecordIndex(spy);
  for (const [did, rkey, rev] of [
    [DID, '3k0000000000a', '3k0000000000a'],
    [DID, '3k0000000000b', '3k0000000000b'],
    [DID, '3k0000000000c', '3k0000000000c'],
    [OTHER, '3k0000000000b', '3k0000000000b'],
  ]) {
    index.put(did, COLLECTION, rkey, `bafy-${did}-${rkey}`, Buffer.from(`bytes of ${did} ${rkey}`), rev, '2026-12-04T00:00:00.000Z');
  }
  return { index, db, prepared };
}

describe('RecordIndex reads', () => {
  it('getWithBytes returns the record of that repo with its block, and nothing for a missing key', () => {
    const { index } = setUp();
    const row = index.getWithBytes(DID, COLLECTION, '3k0000000000b');
    assert.equal(row?.cid, `bafy-${DID}-3k0000000000b`);
    assert.equal(Buffer.from(row!.bytes).toString(), `bytes of ${DID} 3k0000000000b`);
    assert.equal(index.getWithBytes(DID, COLLECTION, '3k0000000000z'), undefined);
    assert.equal(index.getWithBytes(DID, 'app.bsky.feed.like', '3k0000000000b'), undefined);
  });

  it('list pages through one repo newest first, or oldest first with reverse, from the cursor', () => {
    const { index } = setUp();
    assert.deepEqual(index.list(DID, COLLECTION, { limit: 2 }).map((r) => r.rkey), ['3k0000000000c', '3k0000000000b']);
    assert.deepEqual(index.list(DID, COLLECTION, { limit: 2, cursor: '3k0000000000b' }).map((r) => r.rkey), ['3k0000000000a']);
    assert.deepEqual(index.list(DID, COLLECTION, { limit: 5, reverse: true }).map((r) => r.rkey), ['3k0000000000a', '3k0000000000b', '3k0000000000c']);
    assert.deepEqual(index.list(DID, COLLECTION, { limit: 1, reverse: true, cursor: '3k0000000000a' }).map((r) => r.rkey), ['3k0000000000b']);
  });

  it('list gives each record its own block, whatever their lengths, and an empty page as no rows', () => {
    const { index } = setUp();
    const blocks = new Map<string, Buffer>();
    for (let i = 0; i < 40; i++) {
      const rkey = `3k00000000${String(i).padStart(3, '0')}`;
      // Lengths 1 to 40, with bytes that are not UTF-8 (0x00, 0xff) in every block.
      const bytes = Buffer.from(Array.from({ length: i + 1 }, (_, j) => (j % 2 === 0 ? 0xff : j === 1 ? 0 : (i * 7 + j) % 256)));
      blocks.set(rkey, bytes);
      index.put(DID, 'app.bsky.feed.like', rkey, `bafy-x-${rkey}`, bytes, rkey, '2026-12-04T00:00:00.000Z');
    }
    for (const reverse of [false, true]) {
      const rows = index.list(DID, 'app.bsky.feed.like', { limit: 100, reverse });
      const oldestFirst = [...blocks.keys()].sort();
      assert.deepEqual(rows.map((r) => r.rkey), reverse ? oldestFirst : oldestFirst.reverse());
      for (const row of rows) {
        assert.equal(row.cid, `bafy-x-${row.rkey}`);
        assert.deepEqual(Buffer.from(row.bytes), blocks.get(row.rkey));
      }
    }
    assert.deepEqual(index.list(DID, 'app.bsky.feed.repost', { limit: 10 }), []);
    assert.deepEqual(index.list(DID, COLLECTION, { limit: 10, cursor: '3k0000000000a' }), []);
  });

  it('since returns the records written after a rev in the asked collections, oldest first', () => {
    const { index } = setUp();
    assert.deepEqual(index.since(DID, '3k0000000000a', [COLLECTION], 10).map((r) => r.rkey), ['3k0000000000b', '3k0000000000c']);
    assert.deepEqual(index.since(DID, '3k0000000000a', [COLLECTION, 'app.bsky.feed.like'], 1).map((r) => r.rkey), ['3k0000000000b']);
    assert.deepEqual(index.since(DID, '3k0000000000a', ['app.bsky.feed.like'], 10), []);
  });

  it('reads a record whose block is missing (a database damaged before migration 14) as no record', () => {
    const { index, db } = setUp();
    db.prepare('UPDATE record SET bytes = NULL WHERE did = ? AND rkey = ?').run(DID, '3k0000000000b');
    assert.equal(index.getWithBytes(DID, COLLECTION, '3k0000000000b'), undefined);
    assert.deepEqual(index.list(DID, COLLECTION, { limit: 10 }).map((r) => r.rkey), ['3k0000000000c', '3k0000000000a']);
    assert.deepEqual(index.since(DID, '', [COLLECTION], 10).map((r) => r.rkey), ['3k0000000000a', '3k0000000000c']);
  });

  it('every read searches the record index by key instead of scanning it', () => {
    const { index, db, prepared } = setUp();
    index.getWithBytes(DID, COLLECTION, '3k0000000000b');
    index.list(DID, COLLECTION, { limit: 2 });
    index.list(DID, COLLECTION, { limit: 2, reverse: true });
    index.since(DID, '3k0000000000a', [COLLECTION], 10);
    const reads = prepared.filter((sql) => /bytes FROM record/.test(sql));
    assert.equal(reads.length, 4);
    for (const sql of reads) {
      const params = (sql.match(/\?/g) ?? []).map((_, i) => (i === 0 ? DID : 'x'));
      const steps = (db.handle.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((s) => s.detail);
      // A page's rows stream from a co-routine into its aggregate row: scanning that is not a table scan.
      assert.deepEqual(
        steps.filter((s) => !s.startsWith('SEARCH') && !/^(CO-ROUTINE|SCAN) \(subquery-\d+\)$/.test(s)),
        [],
        `${sql}\n${steps.join('\n')}`,
      );
      assert.ok(steps.some((s) => /SEARCH record USING (PRIMARY KEY|INDEX record_rev) \(did=\? AND (collection=\? AND rkey[=<>]\?|rev>\?)\)/.test(s)), steps.join('\n'));
      assert.ok(!sql.includes('JOIN'), sql);
    }
  });
});
