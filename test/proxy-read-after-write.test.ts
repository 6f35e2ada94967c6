// Read-after-write: a test AppView that reports (atproto-repo-rev) having indexed the account only
// up to an older rev, and Squall completing its views with what the account wrote since.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { signUp, startAccountsEnv, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';
import { json, startTestService, type Received, type TestService } from './helpers/services.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';

let plc: TestPlc;
let appView: TestService;
let env: AccountsEnv;
let alice: SignedUp;
let bob: SignedUp;

type Ref = { uri: string; cid: string; rev: string };
/** Alice's first post, which the AppView has indexed, and the rev it has indexed her repo up to. */
let first: Ref;
let indexedRev: string;
let bobPost: Ref;
/** What alice wrote after that. */
let second: Ref;
let third: Ref;
let reply: Ref;

const postRecord = (text: string, extra: Record<string, unknown> = {}) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString(), ...extra });

async function createPost(who: SignedUp, text: string, extra: Record<string, unknown> = {}): Promise<Ref> {
  const { data } = await who.agent.com.atproto.repo.createRecord({ repo: who.did, collection: 'app.bsky.feed.post', record: postRecord(text, extra) });
  return { uri: data.uri, cid: data.cid, rev: data.commit!.rev };
}

const author = (who: SignedUp, displayName?: string) => ({ did: who.did, handle: who.handle, ...(displayName ? { displayName } : {}) });
const postView = (who: SignedUp, ref: Ref, text: string, indexedAt: string, displayName?: string) => ({
  uri: ref.uri,
  cid: ref.cid,
  author: author(who, displayName),
  record: postRecord(text),
  likeCount: 4,
  indexedAt,
});
const longAgo = '2020-01-01T00:00:00.000Z';
const revHeader = () => ({ 'atproto-repo-rev': indexedRev });

before(async () => {
  plc = await startTestPlc();
  appView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView' });
  env = await startAccountsEnv({ PDS_DID_PLC_URL: plc.url, PDS_BSKY_APP_VIEW_URL: appView.url, PDS_BSKY_APP_VIEW_DID: appView.did });
  alice = await signUp(env, 'raw-alice');
  bob = await signUp(env, 'raw-bob');
  first = await createPost(alice, 'first, already indexed');
  indexedRev = first.rev;
  bobPost = await createPost(bob, 'a post by bob');
  second = await createPost(alice, 'second, not indexed yet');
  third = await createPost(alice, 'third, quoting bob', { embed: { $type: 'app.bsky.embed.record', record: { uri: bobPost.uri, cid: bobPost.cid } } });
  reply = await createPost(alice, 'a reply to my first post', { reply: { root: { uri: first.uri, cid: first.cid }, parent: { uri: first.uri, cid: first.cid } } });

  appView.on('app.bsky.feed.getPosts', (_call, res) => json(res, 200, { posts: [postView(bob, bobPost, 'a post by bob', longAgo)] }));
  appView.on('app.bsky.feed.getAuthorFeed', (call, res) => {
    const actor = new URLSearchParams(call.search).get('actor');
    const who = actor === bob.did ? bob : alice;
    const ref = who === bob ? bobPost : first;
    json(res, 200, { feed: [{ post: postView(who, ref, 'indexed', longAgo, 'Old Name') }] }, revHeader());
  });
});
after(async () => {
  await env.close();
  await appView.close();
  await plc.close();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${env.url}/xrpc/${path}`, { headers: { authorization: `Bearer ${alice.agent.session!.accessJwt}`, ...headers } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

describe('read-after-write', () => {
  it("puts the account's new posts into its own author feed, newest first, with the lag header", async () => {
    const res = await get(`app.bsky.feed.getAuthorFeed?actor=${alice.did}`);
    assert.equal(res.status, 200);
    const uris = res.body.feed.map((item: { post: { uri: string } }) => item.post.uri);
    assert.deepEqual(uris, [reply.uri, third.uri, second.uri, first.uri]);
    const fresh = res.body.feed[2].post;
    assert.deepEqual([fresh.author.did, fresh.author.handle, fresh.record.text, fresh.likeCount, fresh.replyCount], [alice.did, alice.handle, 'second, not indexed yet', 0, 0]);
    assert.match(res.headers.get('atproto-upstream-lag') ?? '', /^\d+$/);
    assert.equal(res.headers.get('atproto-repo-rev'), indexedRev);
  });

  it('shows a quoted post as the AppView has it', async () => {
    const res = await get(`app.bsky.feed.getAuthorFeed?actor=${alice.did}`);
    const quoting = res.body.feed.find((item: { post: { uri: string } }) => item.post.uri === third.uri).post;
    assert.equal(quoting.embed.$type, 'app.bsky.embed.record#view');
    assert.equal(quoting.embed.record.$type, 'app.bsky.embed.record#viewRecord');
    assert.equal(quoting.embed.record.uri, bobPost.uri);
    assert.equal(quoting.embed.record.author.did, bob.did);
    const lookup = appView.calls('app.bsky.feed.getPosts').at(-1)!;
    assert.deepEqual([lookup.jwt?.iss, lookup.jwt?.lxm], [alice.did, 'app.bsky.feed.getPosts']);
  });

  it("leaves someone else's author feed alone", async () => {
    const res = await get(`app.bsky.feed.getAuthorFeed?actor=${bob.did}`);
    assert.deepEqual(res.body.feed.map((item: { post: { uri: string } }) => item.post.uri), [bobPost.uri]);
    assert.equal(res.body.feed[0].post.author.displayName, 'Old Name');
  });

  it('puts the new posts on top of the timeline through the official client', async () => {
    appView.on('app.bsky.feed.getTimeline', (_call, res) => json(res, 200, { feed: [{ post: postView(bob, bobPost, 'a post by bob', longAgo) }], cursor: 'c' }, revHeader()));
    const { data, headers } = await alice.agent.getTimeline();
    assert.deepEqual(data.feed.map((item) => item.post.uri), [reply.uri, third.uri, second.uri, bobPost.uri]);
    assert.equal(data.cursor, 'c');
    assert.ok(headers['atproto-upstream-lag']);
  });

  it('puts a new reply into the thread it answers', async () => {
    appView.on('app.bsky.feed.getPostThread', (call, res) => {
      const uri = new URLSearchParams(call.search).get('uri');
      if (uri !== first.uri) return json(res, 404, { error: 'NotFound', message: 'Post not found' }, revHeader());
      json(res, 200, { thread: { $type: 'app.bsky.feed.defs#threadViewPost', post: postView(alice, first, 'first', longAgo), replies: [] } }, revHeader());
    });
    const { data } = await alice.agent.getPostThread({ uri: first.uri });
    const thread = data.thread as unknown as { post: { uri: string }; replies: Array<{ post: { uri: string; record: { text: string } } }> };
    assert.equal(thread.post.uri, first.uri);
    assert.deepEqual(thread.replies.map((r) => r.post.uri), [reply.uri]);
    assert.equal(thread.replies[0].post.record.text, 'a reply to my first post');
  });

  it("builds the thread of a post the AppView does not know yet from the account's records, under the parents it knows", async () => {
    const { data, headers } = await alice.agent.getPostThread({ uri: reply.uri.replace(alice.did, alice.handle) });
    const thread = data.thread as unknown as { post: { uri: string }; parent: { post: { uri: string } } };
    assert.equal(thread.post.uri, reply.uri);
    assert.equal(thread.parent.post.uri, first.uri);
    assert.ok(headers['atproto-upstream-lag']);
    const parents = appView.calls('app.bsky.feed.getPostThread').at(-1)!;
    assert.equal(new URLSearchParams(parents.search).get('uri'), first.uri);
  });

  it("passes on a NotFound for a post that is not the account's", async () => {
    const res = await get(`app.bsky.feed.getPostThread?uri=${encodeURIComponent(bobPost.uri)}`);
    assert.deepEqual([res.status, res.body.error], [404, 'NotFound']);
  });

  it('shows the new profile in getProfile, getProfiles and the author cards of getActorLikes', async () => {
    const avatar = (await alice.agent.uploadBlob(pngOfSize(256, 3), { encoding: 'image/png' })).data.blob;
    const rev = (await alice.agent.com.atproto.repo.putRecord({
      repo: alice.did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: { $type: 'app.bsky.actor.profile', displayName: 'Alice Anew', description: 'fresh', avatar },
    })).data.commit!.rev;
    assert.ok(rev > indexedRev);
    appView.on('app.bsky.actor.getProfile', (_call, res) => json(res, 200, { ...author(alice, 'Old Name'), description: 'stale', followersCount: 9 }, revHeader()));
    appView.on('app.bsky.actor.getProfiles', (_call, res) => json(res, 200, { profiles: [author(bob, 'Bob'), author(alice, 'Old Name')] }, revHeader()));
    appView.on('app.bsky.feed.getActorLikes', (_call, res) => json(res, 200, { feed: [{ post: postView(alice, first, 'first', longAgo, 'Old Name') }, { post: postView(bob, bobPost, 'bob', longAgo, 'Bob') }] }, revHeader()));

    const profile = (await alice.agent.getProfile({ actor: alice.did })).data;
    assert.deepEqual([profile.displayName, profile.description, profile.followersCount], ['Alice Anew', 'fresh', 9]);
    assert.equal(profile.avatar, `${env.url.replace('127.0.0.1', 'localhost')}/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(alice.did)}&cid=${avatar.ref.toString()}`);
    const profiles = (await alice.agent.getProfiles({ actors: [bob.did, alice.did] })).data.profiles;
    assert.deepEqual(profiles.map((p) => p.displayName), ['Bob', 'Alice Anew']);
    const likes = (await alice.agent.getActorLikes({ actor: alice.did })).data.feed;
    assert.deepEqual(likes.map((item) => item.post.author.displayName), ['Alice Anew', 'Bob']);
  });

  it('passes an answer through untouched when the AppView is up to date or says nothing of its rev', async () => {
    const current = env.ctx.repo.rootOrUndefined(alice.did)!.rev;
    const body = { feed: [{ post: postView(alice, first, 'first', longAgo) }] };
    appView.on('app.bsky.feed.getTimeline', (call, res) => {
      const mode = new URLSearchParams(call.search).get('cursor');
      json(res, 200, body, mode === 'current' ? { 'atproto-repo-rev': current } : {});
    });
    for (const mode of ['current', 'none']) {
      const res = await get(`app.bsky.feed.getTimeline?cursor=${mode}`);
      assert.deepEqual(res.body, body, mode);
      assert.equal(res.headers.get('atproto-upstream-lag'), null, mode);
    }
  });

  it("does not merge when the AppView's rev predates every record of the repo (a history from elsewhere)", async () => {
    const carol = await signUp(env, 'raw-carol');
    const only = await createPost(carol, 'carol was here');
    appView.on('app.bsky.feed.getTimeline', (_call, res) => json(res, 200, { feed: [] }, { 'atproto-repo-rev': '2222222222222' }));
    const res = await fetch(`${env.url}/xrpc/app.bsky.feed.getTimeline`, { headers: { authorization: `Bearer ${carol.agent.session!.accessJwt}` } });
    assert.deepEqual(await res.json(), { feed: [] });
    assert.equal(res.headers.get('atproto-upstream-lag'), null);
    assert.ok(only.rev > '2222222222222');
  });

  it('reads a compressed answer to merge into it', async () => {
    appView.on('app.bsky.feed.getTimeline', (call: Received, res) => {
      assert.match(String(call.headers['accept-encoding']), /gzip/);
      const zipped = gzipSync(JSON.stringify({ feed: [] }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': zipped.length, ...revHeader() });
      res.end(zipped);
    });
    const res = await get('app.bsky.feed.getTimeline', { 'accept-encoding': 'gzip' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), null);
    assert.equal(res.body.feed.length, 3);
  });

  it('passes on an answer that is not the view it should be, without merging', async () => {
    appView.on('app.bsky.feed.getTimeline', (_call, res) => json(res, 200, { notAFeed: true }, revHeader()));
    const res = await get('app.bsky.feed.getTimeline');
    assert.deepEqual([res.status, res.body], [200, { notAFeed: true }]);
  });
});
