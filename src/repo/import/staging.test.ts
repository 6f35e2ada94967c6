import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Database } from '../../db/index.ts';
import { ImportStaging } from './staging.ts';

const dir = mkdtempSync(join(tmpdir(), 'squall-staging-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (n: number) => new Uint8Array([n, n, n]);

/** What the copy queries give over the staging file attached to another connection. */
async function copied(staging: ImportStaging): Promise<{ blocks: Array<[string, number]>; records: Array<[string, string, string, number]> }> {
  const db = new Database(join(dir, `main-${Math.random().toString(36).slice(2)}.sqlite`));
  try {
    return await db.withAttached(staging.file, 'staged', async () => {
      const q = staging.copyQueries('staged');
      const blocks = (db.handle.prepare(q.blocks).raw().all() as Array<[string, Uint8Array]>).map(([cid, b]) => [cid, b[0]] as [string, number]);
      const records = (db.handle.prepare(q.records).raw().all() as Array<[string, string, string, Uint8Array]>).map(([c, r, cid, b]) => [c, r, cid, b[0]] as [string, string, string, number]);
      return { blocks, records };
    });
  } finally {
    db.close();
  }
}

describe('import staging', () => {
  it('copies every block when the walk read them all, each once, in CID order', async () => {
    const staging = new ImportStaging(dir);
    try {
      staging.batch(() => staging.putBlocks(Array.from({ length: 150 }, (_, i) => [`c${String(149 - i).padStart(3, '0')}`, bytes(i)] as const)));
      staging.indexBlocks();
      for (let i = 0; i < 150; i++) assert.equal(staging.get(`c${String(i).padStart(3, '0')}`)?.[0], 149 - i);
      staging.get('c007'); // read twice: still one block
      staging.listReached();
      const { blocks, records } = await copied(staging);
      assert.equal(blocks.length, 150);
      assert.deepEqual(blocks.slice(0, 2), [['c000', 149], ['c001', 148]]);
      assert.deepEqual(records, []);
    } finally {
      staging.close();
    }
  });

  it("leaves records' blocks out of the block copy: they go with their records", async () => {
    const staging = new ImportStaging(dir);
    try {
      staging.batch(() => staging.putBlocks(Array.from({ length: 150 }, (_, i) => [`c${String(149 - i).padStart(3, '0')}`, bytes(i)] as const)));
      staging.indexBlocks();
      // the walk reads the tree's blocks with get, the records' with getRecord
      for (let i = 2; i < 150; i++) staging.get(`c${String(i).padStart(3, '0')}`);
      const a = staging.getRecord('c000')!;
      const b = staging.getRecord('c001')!;
      assert.equal(staging.getRecord('missing'), undefined);
      staging.putRecords([['app.bsky.feed.post/b', 'c001', b], ['app.bsky.feed.post/a', 'c000', a]]);
      staging.listReached();
      const { blocks, records } = await copied(staging);
      assert.equal(blocks.length, 148);
      assert.deepEqual(blocks.slice(0, 2), [['c002', 147], ['c003', 146]]);
      assert.deepEqual(records, [['app.bsky.feed.post', 'a', 'c000', 149], ['app.bsky.feed.post', 'b', 'c001', 148]]);
    } finally {
      staging.close();
    }
  });

  it('copies only the blocks the walk read when the CAR held more: strays and second copies stay behind', async () => {
    const staging = new ImportStaging(dir);
    try {
      const blocks = Array.from({ length: 100 }, (_, i) => [`c${String(i).padStart(3, '0')}`, bytes(i)] as const);
      staging.batch(() => staging.putBlocks([...blocks, ['c010', bytes(10)], ['stray', bytes(200)]]));
      staging.indexBlocks();
      for (let i = 0; i < 100; i += 2) staging.get(`c${String(i).padStart(3, '0')}`);
      staging.get('c010');
      assert.equal(staging.get('missing'), undefined);
      staging.listReached();
      const { blocks: out } = await copied(staging);
      assert.deepEqual(
        out.map(([cid]) => cid),
        Array.from({ length: 50 }, (_, i) => `c${String(i * 2).padStart(3, '0')}`),
      );
    } finally {
      staging.close();
    }
  });
});
