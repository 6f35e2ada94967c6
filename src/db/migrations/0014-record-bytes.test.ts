import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Database } from '../database.ts';
import { migrate } from '../migrate.ts';
import { migrations } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'squall-migration-14-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const at = '2026-12-04T00:00:00.000Z';

describe('migration 14: records keep their blocks', () => {
  it("moves each record's block from repo_block into its row, leaves nodes and commits, and marks a missing block NULL", () => {
    const db = new Database(join(dir, 'old.sqlite'));
    const first: boolean[] = [];
    assert.equal(migrate(db, migrations.filter((m) => m.id < 14), (_, { fresh }) => first.push(fresh)).error, undefined);
    assert.ok(first.length === 13 && first.every((fresh) => fresh), 'a new database is fresh throughout its first migration');
    const block = db.prepare('INSERT INTO repo_block (did, cid, rev, bytes) VALUES (?, ?, ?, ?)');
    const record = db.prepare('INSERT INTO record (did, collection, rkey, cid, rev, indexed_at) VALUES (?, ?, ?, ?, ?, ?)');
    // as the write path stored them before: records' blocks beside the commit and the nodes
    block.run('did:a', 'commit', 'r1', Buffer.from('commit'));
    block.run('did:a', 'node', 'r1', Buffer.from('node'));
    block.run('did:a', 'rec1', 'r1', Buffer.from('one'));
    block.run('did:a', 'rec2', 'r1', Buffer.from('two'));
    block.run('did:b', 'rec1', 'r1', Buffer.from('one'));
    record.run('did:a', 'app.bsky.feed.post', 'k1', 'rec1', 'r1', at);
    record.run('did:a', 'app.bsky.feed.like', 'k1', 'rec1', 'r1', at); // the same record at two paths
    record.run('did:a', 'app.bsky.feed.post', 'k2', 'rec2', 'r1', at);
    record.run('did:a', 'app.bsky.feed.post', 'k3', 'lost', 'r1', at); // its block was missing
    record.run('did:b', 'app.bsky.feed.post', 'k1', 'rec1', 'r1', at);

    const heard: Array<[number, boolean]> = [];
    const result = migrate(db, migrations, (m, { fresh }) => heard.push([m.id, fresh]));
    assert.equal(result.error, undefined);
    assert.deepEqual(result.applied.map((m) => m.id), [14]);
    // told before it ran, on a database that was not new (the server logs it: it rewrites a table)
    assert.deepEqual(heard, [[14, false]]);
    const rows = db.prepare("SELECT did, collection, rkey, cid, CAST(bytes AS TEXT) AS text FROM record ORDER BY did, collection, rkey").all();
    assert.deepEqual(rows, [
      { did: 'did:a', collection: 'app.bsky.feed.like', rkey: 'k1', cid: 'rec1', text: 'one' },
      { did: 'did:a', collection: 'app.bsky.feed.post', rkey: 'k1', cid: 'rec1', text: 'one' },
      { did: 'did:a', collection: 'app.bsky.feed.post', rkey: 'k2', cid: 'rec2', text: 'two' },
      { did: 'did:a', collection: 'app.bsky.feed.post', rkey: 'k3', cid: 'lost', text: null },
      { did: 'did:b', collection: 'app.bsky.feed.post', rkey: 'k1', cid: 'rec1', text: 'one' },
    ]);
    assert.deepEqual(db.prepare('SELECT did, cid FROM repo_block ORDER BY did, cid').all(), [
      { did: 'did:a', cid: 'commit' },
      { did: 'did:a', cid: 'node' },
    ]);
    db.close();
  });
});
