import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import BetterSqlite3 from 'better-sqlite3';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { freePort } from './helpers/server.ts';
import { startSquallProcess, stopProcess } from './helpers/squall-process.ts';

/**
 * A data directory from before migration 14 (records' blocks in repo_block) served by this version:
 * the server migrates it at start, and every read, count and export answers as before. The old
 * layout is made from a database this version wrote, by putting the records' blocks back into
 * repo_block, dropping the column and forgetting the migration: what a Squall of round seven left.
 */
let plc: TestPlc;
let dataDir: string;
let port: number;
let base: string;
let child: ChildProcess | undefined;
const ADMIN = 'upgrade-record-blocks-admin';

before(async () => {
  plc = await startTestPlc();
  dataDir = mkdtempSync(join(tmpdir(), 'squall-upgrade-'));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
});
after(async () => {
  if (child) await stopProcess(child);
  await plc.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const start = async () => (child = await startSquallProcess({ port, dataDir, plcUrl: plc.url, adminPassword: ADMIN }));

async function get(nsid: string, params: Record<string, string | string[]>): Promise<{ status: number; bytes: Buffer }> {
  const qs = new URLSearchParams(Object.entries(params).flatMap(([k, v]) => (Array.isArray(v) ? v.map((e): [string, string] => [k, e]) : [[k, v] as [string, string]])));
  const res = await fetch(`${base}/xrpc/${nsid}?${qs}`);
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** Everything a client or relay reads of the repo, and the export verified by @atproto/repo. */
async function readAll(agent: AtpAgent, did: string) {
  const posts: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 7, cursor });
    posts.push(...page.data.records);
    cursor = page.data.cursor;
  } while (cursor);
  const profile = (await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'self' })).data;
  const twin = (await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaab2' })).data;
  const status = (await agent.com.atproto.server.checkAccountStatus()).data;
  const car = (await get('com.atproto.sync.getRepo', { did })).bytes;
  const { root, blocks } = await readCarWithRoot(new Uint8Array(car));
  const key = (await testIdResolver(plc.url).did.resolveAtprotoKey(did)) as string;
  const verified = await verifyRepo(blocks, root, did, key);
  const latest = (await agent.com.atproto.sync.getLatestCommit({ did })).data;
  const picked = await get('com.atproto.sync.getBlocks', { did, cids: [twin.cid!, latest.cid] });
  const proof = await get('com.atproto.sync.getRecord', { did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaab2' });
  return {
    posts,
    profile,
    repoBlocks: status.repoBlocks,
    indexedRecords: status.indexedRecords,
    creates: verified.creates.map((c) => `${c.collection}/${c.rkey} ${c.cid.toString()}`).sort(),
    carBlocks: blocks.size,
    latest,
    getBlocks: [picked.status, picked.bytes.length],
    proof: [proof.status, proof.bytes.length],
  };
}

describe('upgrading a data directory from before migration 14', () => {
  it('migrates at start, and every read, count and export answers as before; writes and deletes go on', async () => {
    await start();
    const agent = new AtpAgent({ service: base });
    await agent.createAccount({ handle: 'upgrader.test', email: 'upgrader@example.com', password: 'upgrade-pass-1' });
    const did = agent.session!.did;
    for (let i = 0; i < 40; i++) await agent.post({ text: `post ${i}`, createdAt: new Date().toISOString() });
    const same = { $type: 'app.bsky.feed.post', text: 'identical', createdAt: '2026-01-01T00:00:00.000Z' };
    await agent.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaaa2', record: same });
    await agent.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaab2', record: same });
    await agent.upsertProfile(() => ({ displayName: 'First' }));
    await agent.upsertProfile(() => ({ displayName: 'Second' }));
    const some = (await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 5 })).data.records;
    await agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: some[3].uri.split('/').pop()! });
    const before = await readAll(agent, did);
    await stopProcess(child!);

    // the layout before migration 14
    const db = new BetterSqlite3(join(dataDir, 'squall.sqlite'));
    db.exec(`
      INSERT OR IGNORE INTO repo_block (did, cid, rev, bytes) SELECT did, cid, max(rev), bytes FROM record GROUP BY did, cid;
      ALTER TABLE record DROP COLUMN bytes;
      DELETE FROM schema_migration WHERE id = 14;
    `);
    // 42 records (39 posts, the identical pair, the profile) on 41 blocks, all in repo_block now
    assert.equal((db.prepare('SELECT count(DISTINCT r.cid) AS n FROM repo_block r JOIN record c ON c.did = r.did AND c.cid = r.cid WHERE r.did = ?').get(did) as { n: number }).n, 41);
    db.close();

    await start();
    await agent.resumeSession(agent.session!);
    const after = await readAll(agent, did);
    assert.deepEqual(after, before);
    assert.equal(before.creates.length, 42);
    assert.equal(before.carBlocks, before.repoBlocks);

    // writes go on; deleting one of two identical records leaves the other's block
    await agent.post({ text: 'after the upgrade', createdAt: new Date().toISOString() });
    await agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaaa2' });
    const later = await readAll(agent, did);
    assert.equal(later.creates.length, 42);
    assert.equal((later.profile.value as { displayName: string }).displayName, 'Second');
    await stopProcess(child!);
    child = undefined;

    const migrated = new BetterSqlite3(join(dataDir, 'squall.sqlite'), { readonly: true });
    assert.equal((migrated.prepare('SELECT count(*) AS n FROM repo_block r JOIN record c ON c.did = r.did AND c.cid = r.cid').get() as { n: number }).n, 0);
    assert.equal((migrated.prepare('SELECT count(*) AS n FROM record WHERE bytes IS NULL').get() as { n: number }).n, 0);
    migrated.close();
    const verify = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'admin', 'verify', '--data', dataDir], { encoding: 'utf8' });
    assert.match(verify, /verification passed/);
  });
});
