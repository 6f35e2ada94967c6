// A full data volume: writes that cannot be stored are refused with 503 NotEnoughResources (the
// XRPC spec's "retry after a delay"), nothing of them is acknowledged or half-applied, the
// operator's log says so once, and writes work again as soon as there is room.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { isStorageFull } from '../src/api/storage-errors.ts';
import { xrpcError } from './helpers/accounts-env.ts';
import { newAccountAgent } from './helpers/agents.ts';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
const logLines: Array<Record<string, unknown>> = [];

before(async () => {
  plc = await startTestPlc();
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url }, { logStream });
});
after(async () => {
  await server.close();
  await plc.close();
});

/** SQLite's own size cap on the server's connection: past it, a write that needs a new page gets SQLITE_FULL, as on a full disk. */
function capDatabase(pages: number | 'at its size'): void {
  const handle = server.server.ctx.db.handle;
  const cap = pages === 'at its size' ? (handle.pragma('page_count', { simple: true }) as number) : pages;
  handle.pragma(`max_page_count = ${cap}`);
}

describe('a full data volume', () => {
  it('tells storage-full errors from others', () => {
    for (const code of ['SQLITE_FULL', 'ENOSPC', 'EDQUOT']) assert.equal(isStorageFull(Object.assign(new Error('full'), { code })), true, code);
    for (const err of [new Error('x'), Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }), null, 'ENOSPC', { code: 28 }]) assert.equal(isStorageFull(err), false);
  });

  it('refuses writes with 503 NotEnoughResources, acknowledges none of them, and takes writes again once there is room', async () => {
    const agent = await newAccountAgent(server.url, 'full');
    const did = agent.session!.did;
    const before = [];
    for (let i = 0; i < 3; i++) before.push(await agent.post({ text: `before ${i}`, createdAt: new Date().toISOString() }));
    const headBefore = (await agent.com.atproto.sync.getLatestCommit({ did })).data;

    capDatabase('at its size');
    const big = { $type: 'com.example.big', blob: 'x'.repeat(400_000) };
    const refused = [];
    try {
      for (let i = 0; i < 3; i++) refused.push(await xrpcError(agent.com.atproto.repo.createRecord({ repo: did, collection: 'com.example.big', record: big })));
    } finally {
      capDatabase(1_073_741_823);
    }
    for (const answer of refused) {
      assert.equal(answer.status, 503);
      assert.equal(answer.error, 'NotEnoughResources');
      assert.match(answer.message, /out of storage space; nothing was written/);
    }
    // Nothing of the refused writes is there: the head, the record list, the repo.
    assert.deepEqual((await agent.com.atproto.sync.getLatestCommit({ did })).data, headBefore);
    assert.deepEqual((await agent.com.atproto.repo.listRecords({ repo: did, collection: 'com.example.big' })).data.records, []);
    // One error line for the operator, not one per refused write.
    const full = logLines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('out of storage space'));
    assert.equal(full.length, 1);
    assert.equal(full[0].level, 50);

    // Room again: the next write commits on top of the last acknowledged one.
    const after = await agent.post({ text: 'after', createdAt: new Date().toISOString() });
    const car = new Uint8Array((await agent.com.atproto.sync.getRepo({ did })).data);
    const { root, blocks } = await readCarWithRoot(car);
    const verified = await verifyRepo(blocks, root, did, (await testIdResolver(plc.url).did.resolveAtprotoData(did)).signingKey);
    const paths = verified.creates.map((c) => `${c.collection}/${c.rkey}`).sort();
    assert.deepEqual(paths, [...before, after].map((p) => `app.bsky.feed.post/${p.uri.split('/').pop()}`).sort());
  });
});
