import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { csrfOf, DpopKey, ManualClient, PageSession } from './helpers/oauth-manual.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const SET = 'com.example.squall.authNotes';
const AUD = 'did:web:api.example.com#notes_service';
const SCOPE = `atproto include:${SET}?aud=${encodeURIComponent(AUD)}`;
let plc: TestPlc;
let server: TestServer;
let authorDid = '';
let did: string;

before(async () => {
  plc = await startTestPlc();
  // `_lexicon.squall.example.com` names the account that publishes the com.example.squall.* Lexicons.
  const resolveTxt = async (name: string) => {
    if (name === '_lexicon.squall.example.com') return [[`did=${authorDid}`]];
    throw Object.assign(new Error(`no TXT record for ${name}`), { code: 'ENOTFOUND' });
  };
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_DISABLE_SSRF_PROTECTION: 'true' }, { network: { resolveTxt } });
  const author = new AtpAgent({ service: server.url });
  await author.createAccount({ handle: 'lex-author.test', email: 'lex@example.com', password: 'author-password-1' });
  authorDid = author.session!.did;
  await author.com.atproto.repo.createRecord({
    repo: authorDid,
    collection: 'com.atproto.lexicon.schema',
    rkey: SET,
    record: {
      $type: 'com.atproto.lexicon.schema',
      lexicon: 1,
      id: SET,
      defs: {
        main: {
          type: 'permission-set',
          title: 'Squall Notes',
          detail: 'Write your notes and read them back',
          permissions: [
            { type: 'permission', resource: 'repo', collection: ['com.example.squall.note'] },
            { type: 'permission', resource: 'rpc', inheritAud: true, lxm: ['com.example.squall.getNotes'] },
            // Outside the set's namespace: must never be granted through it.
            { type: 'permission', resource: 'repo', collection: ['app.bsky.feed.post'] },
            { type: 'permission', resource: 'future-thing', anything: 'at all' },
          ],
        },
      },
    },
  });
  const alice = new AtpAgent({ service: server.url });
  await alice.createAccount({ handle: 'sets-alice.test', email: 'sets@example.com', password: 'alice-password-1' });
  did = alice.session!.did;
});
after(async () => {
  await server.close();
  await plc.close();
});

describe('include: permission sets', () => {
  it('shows the set by its title on the consent page and grants what it contains, within its namespace', async () => {
    const client = new ManualClient(server.server.ctx.oauth.issuer, await DpopKey.generate(), SCOPE);
    const { requestUri } = await client.par();
    const pages = new PageSession(server.server.ctx.oauth.issuer);
    const query = `request_uri=${encodeURIComponent(requestUri)}&client_id=${encodeURIComponent(client.clientId)}`;
    const csrf = csrfOf((await pages.get(`/oauth/authorize?${query}`)).text);
    const signedIn = await pages.post('/oauth/authorize/sign-in', { request_uri: requestUri, client_id: client.clientId, csrf, identifier: 'sets-alice.test', password: 'alice-password-1' });
    const consent = await pages.get(signedIn.location!);
    assert.match(consent.text, /Squall Notes: Write your notes and read them back/);

    const tokens = await client.signIn('sets-alice.test', 'alice-password-1');
    assert.equal(tokens.scope, SCOPE, 'the token response states the include: as granted');
    const note = { repo: did, collection: 'com.example.squall.note', record: { $type: 'com.example.squall.note', text: 'hi' } };
    assert.equal((await client.xrpc('POST', 'com.atproto.repo.createRecord', tokens.access, note)).status, 200);
    const post = await client.xrpc('POST', 'com.atproto.repo.createRecord', tokens.access, { repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'x', createdAt: new Date().toISOString() } });
    assert.equal(post.status, 403);
    assert.equal(post.body.message, 'Missing required scope "repo:app.bsky.feed.post?action=create"');
    const token = await client.xrpc('GET', 'com.atproto.server.getServiceAuth', tokens.access, undefined, { query: `aud=${encodeURIComponent(AUD)}&lxm=com.example.squall.getNotes` });
    assert.equal(token.status, 200, 'rpc: permissions inherit the audience of the include:');
  });

  it('refuses a request whose permission set cannot be resolved, saying which', async () => {
    const client = new ManualClient(server.server.ctx.oauth.issuer, await DpopKey.generate(), 'atproto include:com.example.nowhere.authAll');
    const answer = await client.post('/oauth/par', client.parParams().params);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error, 'invalid_scope');
    assert.match(String(answer.body.error_description), /permission set com\.example\.nowhere\.authAll cannot be resolved: no _lexicon\.nowhere\.example\.com/);
  });
});
