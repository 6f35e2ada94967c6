// The deprecated sync reads older relays and tools still call, as the reference PDS serves them:
// getHead (getLatestCommit's CID) and getCheckout (getRepo without `since`), through the official
// client, under the same account-state rules as the other sync reads.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { xrpcError } from './helpers/accounts-env.ts';
import { newAccountAgent } from './helpers/agents.ts';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let agent: AtpAgent;
let did: string;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  agent = await newAccountAgent(server.url, 'oldsync');
  did = agent.session!.did;
  for (let i = 0; i < 5; i++) await agent.post({ text: `post ${i}`, createdAt: new Date().toISOString() });
});
after(async () => {
  await server.close();
  await plc.close();
});

describe('deprecated sync reads', () => {
  it('getHead names the head commit getLatestCommit names', async () => {
    const head = await agent.com.atproto.sync.getHead({ did });
    const latest = await agent.com.atproto.sync.getLatestCommit({ did });
    assert.equal(head.data.root, latest.data.cid);
  });

  it('getCheckout is the whole repo as getRepo exports it, verified by @atproto/repo', async () => {
    const checkout = new Uint8Array((await agent.com.atproto.sync.getCheckout({ did })).data);
    const repo = new Uint8Array((await agent.com.atproto.sync.getRepo({ did })).data);
    assert.deepEqual(checkout, repo);
    const { root, blocks } = await readCarWithRoot(checkout);
    assert.equal(root.toString(), (await agent.com.atproto.sync.getLatestCommit({ did })).data.cid);
    const verified = await verifyRepo(blocks, root, did, (await testIdResolver(plc.url).did.resolveAtprotoKey(did)) as string);
    assert.equal(verified.creates.length, 5);
  });

  it('answer an unknown repo with their errors: getHead HeadNotFound, getCheckout RepoNotFound', async () => {
    const did = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
    const sync = new AtpAgent({ service: server.url }).com.atproto.sync;
    assert.deepEqual(await xrpcError(sync.getHead({ did })), { status: 400, error: 'HeadNotFound', message: `Could not find root for DID: ${did}` });
    assert.equal((await xrpcError(sync.getCheckout({ did }))).error, 'RepoNotFound');
  });

  it('keep a deactivated repo from the public and open to its owner, as getRepo does', async () => {
    await agent.com.atproto.server.deactivateAccount({});
    try {
      const anyone = new AtpAgent({ service: server.url }).com.atproto.sync;
      assert.equal((await xrpcError(anyone.getHead({ did }))).error, 'RepoDeactivated');
      assert.equal((await xrpcError(anyone.getCheckout({ did }))).error, 'RepoDeactivated');
      // the owner's session (the agent sends it) still reads both
      assert.equal((await agent.com.atproto.sync.getHead({ did })).data.root, (await agent.com.atproto.sync.getLatestCommit({ did })).data.cid);
      assert.ok((await agent.com.atproto.sync.getCheckout({ did })).data.length > 0);
    } finally {
      await agent.com.atproto.server.activateAccount();
    }
  });
});
