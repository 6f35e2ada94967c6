// Every XRPC method that takes a session, called with an OAuth access token: with the narrowest
// grant (`atproto`) each method either serves it (methods any signed-in app may call), refuses
// OAuth outright, or answers 403 ScopeMissingError naming the scope it needs; with a grant holding
// every permission, only the methods that never take OAuth refuse. The table must cover every
// such method, so a new one cannot slip in unchecked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { methods } from '../src/api/index.ts';
import { OAUTH_CAPABLE_VERIFIERS } from '../src/api/oauth-rules.ts';
import { DpopKey, ManualClient } from './helpers/oauth-manual.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { basicAuth, startTestServer, type TestServer } from './helpers/server.ts';

const HANDLE = 'matrix-oauth.test';
const WIDEST = 'atproto transition:generic transition:chat.bsky transition:email identity:* account:email?action=manage account:status?action=manage account:repo?action=manage blob:*/* repo:*';

interface Row {
  nsid: string;
  method: 'GET' | 'POST';
  query?: string;
  body?: (did: string) => unknown;
  contentType?: string;
  /** `any`, `never`, or the scope the narrowest grant is told it misses. */
  needs: string;
}

const now = () => new Date().toISOString();
const like = (did: string) => ({ $type: 'app.bsky.feed.like', subject: { uri: `at://${did}/app.bsky.feed.post/3k2a4bxyzzz22`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }, createdAt: now() });

// Deactivation goes last (and activation after it): it changes what the account may do next.
const ROWS: Row[] = [
  { nsid: 'app.bsky.actor.getPreferences', method: 'GET', needs: 'rpc:app.bsky.actor.getPreferences?aud=*' },
  { nsid: 'app.bsky.actor.putPreferences', method: 'POST', body: () => ({ preferences: [] }), needs: 'rpc:app.bsky.actor.putPreferences?aud=*' },
  { nsid: 'com.atproto.identity.getRecommendedDidCredentials', method: 'GET', needs: 'any' },
  { nsid: 'com.atproto.identity.updateHandle', method: 'POST', body: () => ({ handle: HANDLE }), needs: 'identity:handle' },
  { nsid: 'com.atproto.identity.requestPlcOperationSignature', method: 'POST', needs: 'identity:*' },
  { nsid: 'com.atproto.identity.signPlcOperation', method: 'POST', body: () => ({ token: 'AAAAA-AAAAA' }), needs: 'identity:*' },
  { nsid: 'com.atproto.identity.submitPlcOperation', method: 'POST', body: () => ({ operation: {} }), needs: 'identity:*' },
  {
    nsid: 'com.atproto.repo.applyWrites',
    method: 'POST',
    body: (did) => ({ repo: did, writes: [{ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.like', value: like(did) }] }),
    needs: 'repo:app.bsky.feed.like?action=create',
  },
  { nsid: 'com.atproto.repo.createRecord', method: 'POST', body: (did) => ({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'x', createdAt: now() } }), needs: 'repo:app.bsky.feed.post?action=create' },
  { nsid: 'com.atproto.repo.putRecord', method: 'POST', body: (did) => ({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile' } }), needs: 'repo:app.bsky.actor.profile?action=create' },
  { nsid: 'com.atproto.repo.deleteRecord', method: 'POST', body: (did) => ({ repo: did, collection: 'app.bsky.feed.post', rkey: '3k2a4bxyzzz22' }), needs: 'repo:app.bsky.feed.post?action=delete' },
  { nsid: 'com.atproto.repo.uploadBlob', method: 'POST', body: () => 'some text', contentType: 'text/plain', needs: 'blob:text/plain' },
  { nsid: 'com.atproto.repo.importRepo', method: 'POST', body: () => new Uint8Array([1, 2, 3]), contentType: 'application/vnd.ipld.car', needs: 'account:repo?action=manage' },
  { nsid: 'com.atproto.repo.listMissingBlobs', method: 'GET', needs: 'any' },
  { nsid: 'com.atproto.server.checkAccountStatus', method: 'GET', needs: 'any' },
  { nsid: 'com.atproto.server.getSession', method: 'GET', needs: 'any' },
  { nsid: 'com.atproto.server.getServiceAuth', method: 'GET', query: 'aud=did:web:api.example.com%23svc&lxm=app.bsky.feed.getTimeline', needs: 'rpc:app.bsky.feed.getTimeline?aud=did:web:api.example.com%23svc' },
  { nsid: 'com.atproto.server.confirmEmail', method: 'POST', body: () => ({ email: 'mo@example.com', token: 'AAAAA-AAAAA' }), needs: 'account:email?action=manage' },
  { nsid: 'com.atproto.server.requestEmailConfirmation', method: 'POST', needs: 'account:email?action=manage' },
  { nsid: 'com.atproto.server.requestEmailUpdate', method: 'POST', needs: 'account:email?action=manage' },
  { nsid: 'com.atproto.server.updateEmail', method: 'POST', body: () => ({ email: 'mo@example.com' }), needs: 'account:email?action=manage' },
  { nsid: 'com.atproto.server.getAccountInviteCodes', method: 'GET', needs: 'never' },
  { nsid: 'com.atproto.server.createAppPassword', method: 'POST', body: () => ({ name: 'matrix' }), needs: 'never' },
  { nsid: 'com.atproto.server.listAppPasswords', method: 'GET', needs: 'never' },
  { nsid: 'com.atproto.server.revokeAppPassword', method: 'POST', body: () => ({ name: 'matrix' }), needs: 'never' },
  { nsid: 'com.atproto.server.requestAccountDelete', method: 'POST', needs: 'never' },
  { nsid: 'com.atproto.sync.getBlob', method: 'GET', query: 'did=DID&cid=bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm', needs: 'any' },
  { nsid: 'com.atproto.sync.listBlobs', method: 'GET', query: 'did=DID', needs: 'any' },
  { nsid: 'com.atproto.sync.getBlocks', method: 'GET', query: 'did=DID&cids=bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm', needs: 'any' },
  { nsid: 'com.atproto.sync.getRecord', method: 'GET', query: 'did=DID&collection=app.bsky.feed.post&rkey=3k2a4bxyzzz22', needs: 'any' },
  { nsid: 'com.atproto.sync.getRepo', method: 'GET', query: 'did=DID', needs: 'any' },
  { nsid: 'com.atproto.sync.getLatestCommit', method: 'GET', query: 'did=DID', needs: 'any' },
  { nsid: 'com.atproto.sync.getHead', method: 'GET', query: 'did=DID', needs: 'any' },
  { nsid: 'com.atproto.sync.getCheckout', method: 'GET', query: 'did=DID', needs: 'any' },
  { nsid: 'com.atproto.server.deactivateAccount', method: 'POST', body: () => ({}), needs: 'account:status?action=manage' },
  { nsid: 'com.atproto.server.activateAccount', method: 'POST', needs: 'account:status?action=manage' },
];

let plc: TestPlc;
let server: TestServer;
let did: string;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  const agent = new AtpAgent({ service: server.url });
  await agent.createAccount({ handle: HANDLE, email: 'mo@example.com', password: 'matrix-password-1' });
  did = agent.session!.did;
});
after(async () => {
  await server.close();
  await plc.close();
});

async function grant(scope: string) {
  const client = new ManualClient(server.server.ctx.oauth.issuer, await DpopKey.generate(), scope);
  return { client, access: (await client.signIn(HANDLE, 'matrix-password-1')).access };
}

function send(c: ManualClient, access: string, row: Row) {
  return c.xrpc(row.method, row.nsid, access, row.body?.(did), { query: row.query?.replace('DID', did), contentType: row.contentType });
}

describe('every session method with an OAuth token', () => {
  it('has a row in this matrix', () => {
    const capable = methods.filter((m) => OAUTH_CAPABLE_VERIFIERS.has(m.auth)).map((m) => m.nsid).sort();
    assert.deepEqual(ROWS.map((r) => r.nsid).sort(), capable);
  });

  it('with only "atproto": serves, refuses OAuth, or names the missing scope', async () => {
    const { client, access } = await grant('atproto');
    for (const row of ROWS) {
      const answer = await send(client, access, row);
      const seen = `${row.nsid}: ${answer.status} ${JSON.stringify(answer.body)}`;
      if (row.needs === 'any') {
        assert.ok(answer.status !== 401 && answer.status !== 403, seen);
      } else if (row.needs === 'never') {
        assert.equal(answer.status, 403, seen);
        assert.match(String(answer.body.message), /OAuth credentials are not supported/, seen);
      } else {
        assert.equal(answer.status, 403, seen);
        assert.equal(answer.body.error, 'ScopeMissingError', seen);
        assert.equal(answer.body.message, `Missing required scope "${row.needs}"`, seen);
      }
    }
  });

  it('with every permission: only the methods that never take OAuth refuse', async () => {
    const { client, access } = await grant(WIDEST);
    for (const row of ROWS) {
      const answer = await send(client, access, row);
      const seen = `${row.nsid}: ${answer.status} ${JSON.stringify(answer.body)}`;
      if (row.needs === 'never') assert.equal(answer.status, 403, seen);
      else assert.ok(answer.status !== 401 && answer.body.error !== 'ScopeMissingError' && !/OAuth credentials/.test(String(answer.body.message)), seen);
    }
  });
});

describe('OAuth tokens and the account states', () => {
  const scope = 'atproto transition:generic';
  const post = (d: string) => ({ repo: d, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'hello', createdAt: now() } });

  /** An account with an OAuth grant, issued while it could still sign in. */
  async function signedInAccount(name: string) {
    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: `${name}.test`, email: `${name}@example.com`, password: 'state-password-1' });
    const client = new ManualClient(server.server.ctx.oauth.issuer, await DpopKey.generate(), scope);
    const tokens = await client.signIn(`${name}.test`, 'state-password-1');
    return { agent, did: agent.session!.did, client, ...tokens };
  }

  it('a deactivated account reads its own session but writes nothing, and writes again once activated', async () => {
    const a = await signedInAccount('oauth-paused');
    await a.agent.com.atproto.server.deactivateAccount({});
    const session = await a.client.xrpc('GET', 'com.atproto.server.getSession', a.access);
    assert.equal(session.status, 200, JSON.stringify(session.body));
    assert.equal(session.body.active, false);
    const write = await a.client.xrpc('POST', 'com.atproto.repo.createRecord', a.access, post(a.did));
    assert.equal(write.status, 401, JSON.stringify(write.body)); // as for a session (test/account-states.test.ts)
    assert.equal(write.body.error, 'AccountDeactivated');
    await a.agent.com.atproto.server.activateAccount();
    assert.equal((await a.client.xrpc('POST', 'com.atproto.repo.createRecord', a.access, post(a.did))).status, 200);
  });

  it('a taken-down account: its access token gets 401 AccountTakedown and its refresh token is refused', async () => {
    const a = await signedInAccount('oauth-takendown');
    assert.equal((await a.client.xrpc('GET', 'com.atproto.server.getSession', a.access)).status, 200);
    await new AtpAgent({ service: server.url }).com.atproto.admin.updateSubjectStatus(
      { subject: { $type: 'com.atproto.admin.defs#repoRef', did: a.did }, takedown: { applied: true } },
      { headers: { authorization: basicAuth(server.adminPassword) } },
    );
    for (const [method, nsid, body] of [['GET', 'com.atproto.server.getSession', undefined], ['POST', 'com.atproto.repo.createRecord', post(a.did)]] as const) {
      const answer = await a.client.xrpc(method, nsid, a.access, body);
      assert.equal(answer.status, 401, `${nsid}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, 'AccountTakedown', nsid);
    }
    const refresh = await a.client.post('/oauth/token', { grant_type: 'refresh_token', refresh_token: a.refresh, client_id: a.client.clientId });
    assert.equal(refresh.status, 400, JSON.stringify(refresh.body));
    assert.equal(refresh.body.error, 'invalid_grant');
  });
});
