import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { readCarWithRoot, verifyProofs } from '@atproto/repo';
import { CID } from '@atproto/lex-data';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let agent: AtpAgent;
let did: string;
let key: string;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  agent = new AtpAgent({ service: server.url });
  did = (await agent.createAccount({ handle: 'proofs.test', email: 'proofs@example.com', password: 'proofs-password' })).data.did;
  for (let i = 0; i < 40; i++) await agent.post({ text: `post ${i}`, createdAt: new Date().toISOString() });
  key = (await testIdResolver(plc.url).did.resolveAtprotoKey(did)) as string;
});
after(async () => {
  await server.close();
  await plc.close();
});

const car = async (path: string) => {
  const res = await fetch(`${server.url}/xrpc/${path}`);
  assert.equal(res.status, 200, path);
  assert.equal(res.headers.get('content-type'), 'application/vnd.ipld.car');
  return new Uint8Array(await res.arrayBuffer());
};

describe('sync proofs', () => {
  it('getRecord proves a present record, verified by @atproto/repo', async () => {
    const list = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 1 });
    const record = list.data.records[0];
    const rkey = record.uri.split('/').pop()!;
    const proof = await car(`com.atproto.sync.getRecord?did=${did}&collection=app.bsky.feed.post&rkey=${rkey}`);
    const claim = { collection: 'app.bsky.feed.post', rkey, cid: CID.parse(record.cid) };
    const result = await verifyProofs(proof, [claim], did, key);
    assert.equal(result.verified.length, 1);
    assert.equal(result.unverified.length, 0);
  });

  it('getRecord proves an absent record, verified by @atproto/repo', async () => {
    const proof = await car(`com.atproto.sync.getRecord?did=${did}&collection=app.bsky.feed.post&rkey=3zzzzzzzzzzzz`);
    const result = await verifyProofs(proof, [{ collection: 'app.bsky.feed.post', rkey: '3zzzzzzzzzzzz', cid: null }], did, key);
    assert.equal(result.verified.length, 1);
    // and the same proof does not prove a made-up presence
    const lie = await verifyProofs(proof, [{ collection: 'app.bsky.feed.post', rkey: '3zzzzzzzzzzzz', cid: CID.parse('bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm') }], did, key);
    assert.equal(lie.verified.length, 0);
  });

  it('getRepo since a rev holds exactly the blocks written after it', async () => {
    const before = await agent.com.atproto.sync.getLatestCommit({ did });
    const fullBefore = await readCarWithRoot(await car(`com.atproto.sync.getRepo?did=${did}`));
    await agent.post({ text: 'after the rev', createdAt: new Date().toISOString() });
    await agent.post({ text: 'and another', createdAt: new Date().toISOString() });
    const diff = await readCarWithRoot(await car(`com.atproto.sync.getRepo?did=${did}&since=${before.data.rev}`));
    const fullAfter = await readCarWithRoot(await car(`com.atproto.sync.getRepo?did=${did}`));
    const after = await agent.com.atproto.sync.getLatestCommit({ did });
    assert.equal(diff.root.toString(), after.data.cid);
    const expected = new Set<string>();
    for (const cid of fullAfter.blocks.cids()) if (!fullBefore.blocks.has(cid)) expected.add(cid.toString());
    const got = new Set(diff.blocks.cids().map((cid) => cid.toString()));
    assert.deepEqual([...got].sort(), [...expected].sort());
  });
});
