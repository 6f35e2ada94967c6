// Refresh-token retries and theft, as the official client meets them: @atproto/api keeps its
// session when a refresh fails in transit and tries again later with the same refresh token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
});
after(async () => {
  await server.close();
  await plc.close();
});

/** A fetch whose next refreshSession answer reaches the server's side of the wire and no further. */
function lossyFetch() {
  const state = { dropNextRefresh: false, dropped: undefined as { refreshJwt: string; accessJwt: string } | undefined };
  const fetchFn: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (state.dropNextRefresh && url.includes('com.atproto.server.refreshSession')) {
      state.dropNextRefresh = false;
      state.dropped = (await res.json()) as { refreshJwt: string; accessJwt: string };
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    }
    return res;
  };
  return { state, fetchFn };
}

async function refreshWith(refreshJwt: string) {
  const res = await fetch(`${server.url}/xrpc/com.atproto.server.refreshSession`, { method: 'POST', headers: { authorization: `Bearer ${refreshJwt}` } });
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string; refreshJwt?: string } };
}

describe('refreshSession with the official client', () => {
  it('lets a client whose refresh answer was lost retry, and gives it the pair it missed', async () => {
    const { state, fetchFn } = lossyFetch();
    const agent = new AtpAgent({ service: server.url, fetch: fetchFn });
    await agent.createAccount({ handle: 'lossy.test', email: 'lossy@example.com', password: 'lossy-password-1' });
    const before = agent.session!.refreshJwt;

    state.dropNextRefresh = true;
    await assert.rejects(agent.sessionManager.refreshSession());
    assert.equal(agent.session?.refreshJwt, before, 'the client kept its session for a later try');

    await agent.sessionManager.refreshSession();
    assert.equal(agent.session!.refreshJwt, state.dropped!.refreshJwt);
    assert.equal(agent.session!.accessJwt, state.dropped!.accessJwt);
    const post = await agent.post({ text: 'still signed in', createdAt: new Date().toISOString() });
    assert.match(post.uri, /^at:\/\//);
    await agent.sessionManager.refreshSession(); // and the chain carries on
    assert.notEqual(agent.session!.refreshJwt, state.dropped!.refreshJwt);
  });

  it('refuses a stolen refresh token the client has moved past, and signs the whole session out', async () => {
    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'robbed.test', email: 'robbed@example.com', password: 'robbed-password-1' });
    const stolen = agent.session!.refreshJwt;
    await agent.sessionManager.refreshSession();
    await agent.sessionManager.refreshSession();

    const replay = await refreshWith(stolen);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'InvalidToken');
    assert.match(replay.body.message!, /already used/);

    await assert.rejects(agent.sessionManager.refreshSession(), (err: { error?: string }) => err.error === 'InvalidToken');
    assert.equal(agent.session, undefined, 'the client learns it is signed out');
  });

  it('keeps the account’s other sessions when one is revoked for a replay', async () => {
    const phone = new AtpAgent({ service: server.url });
    await phone.createAccount({ handle: 'twodevices.test', email: 'twodevices@example.com', password: 'twodevices-password-1' });
    const laptop = new AtpAgent({ service: server.url });
    await laptop.login({ identifier: 'twodevices.test', password: 'twodevices-password-1' });
    const stolen = phone.session!.refreshJwt;
    await phone.sessionManager.refreshSession();
    await phone.sessionManager.refreshSession();
    assert.equal((await refreshWith(stolen)).status, 401);

    await laptop.sessionManager.refreshSession();
    assert.ok(laptop.session);
  });
});
