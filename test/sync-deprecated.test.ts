// The deprecated sync reads older relays and tools still call, as the reference PDS serves them:
// getHead (getLatestCommit's CID) and getCheckout (getRepo without `since`), through the official
// client, under the same account-state rules as the other sync reads.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let agent: AtpAgent;
let did: string;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  agent = new AtpAgent({ service: server.url });
  did = (await agent.createAccount({ handle: 'oldsync.test', email: 'oldsync@example.com', password: 'oldsync-password' })).data.did;
  for (let i = 0; i < 5; i++) await agent.post({ text: `post ${i}`, createdAt: new Date().toISOString() });
});
after(async () => {
  await server.close();
  await plc.close();
});

const answer = async (path: string) => {
  const res = await fetch(`${server.url}/xrpc/${path}`);
  return { status: res.status, body: (await res.json()) as { error?: string } };
};

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
    const unknown = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa';
    assert.deepEqual(await answer(`com.atproto.sync.getHead?did=${unknown}`), { status: 400, body: { error: 'HeadNotFound', message: `Could not find root for DID: ${unknown}` } });
    assert.equal((await answer(`com.atproto.sync.getCheckout?did=${unknown}`)).body.error, 'RepoNotFound');
  });

  it('keep a deactivated repo from the public and open to its owner, as getRepo does', async () => {
    await agent.com.atproto.server.deactivateAccount({});
    try {
      for (const nsid of ['getHead', 'getCheckout']) {
        assert.deepEqual((await answer(`com.atproto.sync.${nsid}?did=${did}`)).body.error, 'RepoDeactivated', nsid);
        const own = await fetch(`${server.url}/xrpc/com.atproto.sync.${nsid}?did=${did}`, { headers: { authorization: `Bearer ${agent.session!.accessJwt}` } });
        assert.equal(own.status, 200, nsid);
      }
    } finally {
      await agent.com.atproto.server.activateAccount();
    }
  });
});
