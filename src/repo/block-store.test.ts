// One suite that every BlockStore must pass, run against each implementation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Database, migrate, migrations } from '../db/index.ts';
import { cidForCbor, cidToString } from '../ipld/cid.ts';
import { MemoryBlockStore, type BlockStore } from './block-store.ts';
import { RecordIndex } from './record-index.ts';
import { SqliteBlockStore } from './sqlite-block-store.ts';

const block = (i: number): [string, Uint8Array] => {
  const bytes = new TextEncoder().encode(`block ${i}`);
  return [cidToString(cidForCbor(bytes)), bytes];
};
const hex = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString('hex'));

const dir = mkdtempSync(join(tmpdir(), 'squall-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openDb(name: string): Database {
  const db = new Database(join(dir, `${name}.sqlite`));
  const result = migrate(db, migrations);
  assert.equal(result.error, undefined);
  return db;
}

const implementations: Array<[string, () => { store: BlockStore; other: BlockStore }]> = [
  ['MemoryBlockStore', () => ({ store: new MemoryBlockStore(), other: new MemoryBlockStore() })],
  [
    'SqliteBlockStore',
    () => {
      const db = openDb(`shared-${Math.random().toString(36).slice(2)}`);
      return { store: new SqliteBlockStore(db.handle, 'did:plc:alice'), other: new SqliteBlockStore(db.handle, 'did:plc:bob') };
    },
  ],
];

for (const [name, make] of implementations) {
  describe(`${name} (the BlockStore contract)`, () => {
    it('returns what was put, and nothing for unknown CIDs', () => {
      const { store } = make();
      store.putMany([block(1), block(2)], '3lbkuudsw6k2a');
      assert.equal(hex(store.get(block(1)[0])), hex(block(1)[1]));
      assert.equal(store.has(block(2)[0]), true);
      assert.equal(store.get(block(3)[0]), undefined);
      assert.equal(store.has(block(3)[0]), false);
    });

    it('getMany splits found blocks from missing ones', () => {
      const { store } = make();
      store.putMany([block(1), block(2)], '3lbkuudsw6k2a');
      const { blocks, missing } = store.getMany([block(1)[0], block(3)[0], block(2)[0]]);
      assert.deepEqual([...blocks.keys()].sort(), [block(1)[0], block(2)[0]].sort());
      assert.deepEqual(missing, [block(3)[0]]);
    });

    it('putting a block twice keeps one copy, and deleting removes it', () => {
      const { store } = make();
      store.putMany([block(1)], '3lbkuudsw6k2a');
      store.putMany([block(1)], '3lbkuudsw6k2b');
      assert.equal(store.has(block(1)[0]), true);
      store.deleteMany([block(1)[0], block(9)[0]]);
      assert.equal(store.has(block(1)[0]), false);
    });

    it("keeps each repo's blocks apart", () => {
      const { store, other } = make();
      store.putMany([block(1)], '3lbkuudsw6k2a');
      assert.equal(other.has(block(1)[0]), false);
      other.putMany([block(1)], '3lbkuudsw6k2a');
      other.deleteMany([block(1)[0]]);
      assert.equal(store.has(block(1)[0]), true);
    });
  });
}

describe('SqliteBlockStore', () => {
  it('streams every block of a repo in pages, or only those written after a rev', () => {
    const db = openDb('stream');
    const store = new SqliteBlockStore(db.handle, 'did:plc:alice');
    new SqliteBlockStore(db.handle, 'did:plc:bob').putMany([block(1000)], '3lbkuudsw6k2z');
    const revs = ['3lbkuudsw6k2a', '3lbkuudsw6k2b', '3lbkuudsw6k2c'];
    const all = Array.from({ length: 30 }, (_, i) => block(i));
    db.transaction(() => all.forEach((b, i) => store.putMany([b], revs[i % 3])));
    const streamed = [...store.streamBlocks(undefined, 7)].map((b) => cidToString(b.cid));
    assert.deepEqual(streamed.sort(), all.map((b) => b[0]).sort());
    const since = [...store.streamBlocks('3lbkuudsw6k2a', 4)].map((b) => cidToString(b.cid));
    assert.deepEqual(since.sort(), all.filter((_, i) => i % 3 !== 0).map((b) => b[0]).sort());
    assert.deepEqual([...store.streamBlocks('3lbkuudsw6k2c')], []);
    // a block written again by a later commit counts as part of that commit
    store.putMany([all[0]], '3lbkuudsw6k2d');
    assert.deepEqual([...store.streamBlocks('3lbkuudsw6k2c')].map((b) => cidToString(b.cid)), [all[0][0]]);
    db.close();
  });

  it('lets other statements run on the connection between streamed blocks', () => {
    const db = openDb('interleave');
    const store = new SqliteBlockStore(db.handle, 'did:plc:alice');
    store.putMany(Array.from({ length: 20 }, (_, i) => block(i)), '3lbkuudsw6k2a');
    let count = 0;
    for (const { cid } of store.streamBlocks(undefined, 5)) {
      // a write in the middle of an export must not hit "connection is busy"
      store.putMany([block(100 + count)], '3lbkuudsw6k2b');
      assert.equal(store.has(cidToString(cid)), true);
      count++;
    }
    assert.ok(count >= 20);
    db.close();
  });

  it('never opens a transaction itself, so the caller decides what commits together', () => {
    const db = openDb('rollback');
    const store = new SqliteBlockStore(db.handle, 'did:plc:alice');
    assert.throws(() =>
      db.transaction(() => {
        store.putMany([block(1)], '3lbkuudsw6k2a');
        throw new Error('the commit failed later');
      }),
    );
    assert.equal(store.has(block(1)[0]), false);
    db.close();
  });

  it("finds records' blocks in the record index: by CID, in getMany, and in the stream, each CID once", () => {
    const db = openDb('records');
    const store = new SqliteBlockStore(db.handle, 'did:plc:alice');
    const records = new RecordIndex(db);
    const at = '2026-12-04T00:00:00.000Z';
    store.putMany([block(1), block(2)], '3lbkuudsw6k2a');
    // two paths holding one record (identical records), one more record, and another repo's
    records.put('did:plc:alice', 'app.bsky.feed.post', '3lbkuudsw6k2a', block(10)[0], block(10)[1], '3lbkuudsw6k2a', at);
    records.put('did:plc:alice', 'app.bsky.feed.like', '3lbkuudsw6k2b', block(10)[0], block(10)[1], '3lbkuudsw6k2c', at);
    records.put('did:plc:alice', 'app.bsky.feed.post', '3lbkuudsw6k2b', block(11)[0], block(11)[1], '3lbkuudsw6k2b', at);
    records.put('did:plc:bob', 'app.bsky.feed.post', '3lbkuudsw6k2a', block(12)[0], block(12)[1], '3lbkuudsw6k2a', at);
    assert.equal(hex(store.get(block(10)[0])), hex(block(10)[1]));
    assert.equal(store.has(block(11)[0]), true);
    assert.equal(store.has(block(12)[0]), false);
    const { blocks, missing } = store.getMany([block(1)[0], block(11)[0], block(12)[0]]);
    assert.deepEqual([...blocks.keys()].sort(), [block(1)[0], block(11)[0]].sort());
    assert.deepEqual(missing, [block(12)[0]]);
    const cids = (since?: string) => [...store.streamBlocks(since, 1)].map((b) => cidToString(b.cid)).sort();
    assert.deepEqual(cids(), [1, 2, 10, 11].map((i) => block(i)[0]).sort());
    // since a rev: a record block is in it if any path holding it was written later
    assert.deepEqual(cids('3lbkuudsw6k2a'), [10, 11].map((i) => block(i)[0]).sort());
    assert.deepEqual(cids('3lbkuudsw6k2b'), [block(10)[0]]);
    // the last path holding a block takes it away
    records.delete('did:plc:alice', 'app.bsky.feed.post', '3lbkuudsw6k2a');
    assert.equal(store.has(block(10)[0]), true);
    records.delete('did:plc:alice', 'app.bsky.feed.like', '3lbkuudsw6k2b');
    assert.equal(store.has(block(10)[0]), false);
    db.close();
  });

  it("reads records' blocks for the stream along the record index's key from the cursor, and the shared CIDs from the CID index alone", () => {
    const db = openDb('record-plans');
    const plan = (sql: string, ...params: unknown[]) => (db.handle.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    for (const since of [false, true]) {
      const page = plan(
        `SELECT collection, rkey, cid, bytes FROM record WHERE did = ? AND (collection, rkey) > (?, ?) ${since ? 'AND rev > ?' : ''} AND bytes IS NOT NULL ORDER BY collection, rkey LIMIT ?`,
        ...(since ? ['a', 'b', 'c', 'x', 5] : ['a', 'b', 'c', 5]),
      );
      assert.match(page, /SEARCH record USING PRIMARY KEY \(did=\? AND \(collection,rkey\)>\(\?,\?\)\)/);
      assert.doesNotMatch(page, /TEMP B-TREE/);
    }
    const shared = plan('SELECT cid FROM record INDEXED BY record_cid WHERE did = ? GROUP BY cid HAVING count(*) > 1', 'a');
    assert.match(shared, /COVERING INDEX record_cid \(did=\?\)/);
    assert.doesNotMatch(shared, /TEMP B-TREE/);
    db.close();
  });

  it('looks blocks up by primary key, and reads "since" along it without an index on rev', () => {
    const db = openDb('plans');
    const plan = (sql: string) => (db.handle.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    assert.match(plan("SELECT bytes FROM repo_block WHERE did = 'a' AND cid = 'b'"), /PRIMARY KEY \(did=\? AND cid=\?\)/);
    const since = plan("SELECT cid, bytes FROM repo_block WHERE did = 'a' AND cid > 'b' AND rev > 'x' ORDER BY cid LIMIT 5");
    assert.match(since, /PRIMARY KEY \(did=\? AND cid>\?\)/);
    assert.doesNotMatch(since, /TEMP B-TREE/);
    assert.deepEqual(db.handle.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'repo_block' AND sql IS NOT NULL").all(), []);
    db.close();
  });
});
