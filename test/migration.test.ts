// Account migration with the official client (@atproto/api) on both sides, as the atproto
// account-migration guide does it: from one Squall (the "other PDS") into another, then out of
// that one to a third. After each step, what a client sees.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { Firehose, MemoryRunner, type Event } from '@atproto/sync';
import { createServiceJwt } from '../src/auth/service-jwt.ts';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { generateKeypair } from '../src/crypto/index.ts';
import * as signingKeys from '../src/repo/signing-keys.ts';
import { xrpcError } from './helpers/accounts-env.ts';
import { loggedIn, recordsOf, startMigrationEnv, type MigrationEnv } from './helpers/migration-env.ts';
import { testIdResolver } from './helpers/plc.ts';
import { tid } from './helpers/repo-car.ts';

let env: MigrationEnv;
/** A relay stand-in: the paths of the requestCrawl calls it received (`/pds<i>/xrpc/...`). */
let relay: Server;
const crawlRequests: string[] = [];
before(async () => {
  relay = createServer((req, res) => {
    crawlRequests.push(req.url ?? '');
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
  env = await startMigrationEnv(3, {}, (i) => ({ PDS_CRAWLERS: `${relayUrl}/pds${i}` }));
});
after(async () => {
  await env.close();
  await new Promise((resolve) => relay.close(resolve));
});
const crawlsOf = (i: number) => crawlRequests.filter((path) => path === `/pds${i}/xrpc/com.atproto.sync.requestCrawl`).length;

const PASSWORD = 'moving-password-1';
const EMAIL = 'mover@example.com';
const now = () => new Date().toISOString();


async function status(agent: AtpAgent) {
  return (await agent.com.atproto.server.checkAccountStatus()).data;
}

/** The steps of the official flow, each its own call so the tests can look between them. */
class OfficialMigration {
  newAgent: AtpAgent;
  constructor(
    readonly oldAgent: AtpAgent,
    readonly newUrl: string,
    readonly handle: string,
  ) {
    this.newAgent = new AtpAgent({ service: newUrl });
  }

  get did(): string {
    return this.oldAgent.session!.did;
  }

  async createAccount(): Promise<void> {
    const serviceDid = (await this.newAgent.com.atproto.server.describeServer()).data.did;
    const { token } = (await this.oldAgent.com.atproto.server.getServiceAuth({ aud: serviceDid, lxm: 'com.atproto.server.createAccount' })).data;
    await this.newAgent.com.atproto.server.createAccount(
      { did: this.did, handle: this.handle, email: EMAIL, password: PASSWORD },
      { headers: { authorization: `Bearer ${token}` }, encoding: 'application/json' },
    );
    await this.newAgent.login({ identifier: this.handle, password: PASSWORD });
  }

  async importRepo(): Promise<void> {
    const car = (await this.oldAgent.com.atproto.sync.getRepo({ did: this.did })).data;
    await this.newAgent.com.atproto.repo.importRepo(car, { encoding: 'application/vnd.ipld.car' });
  }

  /** Copies the blobs the new PDS says it misses; returns how many. */
  async copyBlobs(): Promise<number> {
    let copied = 0;
    let cursor: string | undefined;
    do {
      const page = (await this.newAgent.com.atproto.repo.listMissingBlobs({ limit: 100, cursor })).data;
      for (const { cid } of page.blobs) {
        const blob = await this.oldAgent.com.atproto.sync.getBlob({ did: this.did, cid });
        await this.newAgent.com.atproto.repo.uploadBlob(blob.data, { encoding: blob.headers['content-type'] });
        copied++;
      }
      cursor = page.cursor;
    } while (cursor);
    return copied;
  }

  async copyPreferences(): Promise<void> {
    const { preferences } = (await this.oldAgent.app.bsky.actor.getPreferences()).data;
    await this.newAgent.app.bsky.actor.putPreferences({ preferences });
  }

  async updateIdentity(readToken: () => Promise<string>): Promise<void> {
    const credentials = (await this.newAgent.com.atproto.identity.getRecommendedDidCredentials()).data;
    await this.oldAgent.com.atproto.identity.requestPlcOperationSignature();
    const token = await readToken();
    const { operation } = (await this.oldAgent.com.atproto.identity.signPlcOperation({ token, ...credentials })).data;
    await this.newAgent.com.atproto.identity.submitPlcOperation({ operation });
  }

  async finish(): Promise<void> {
    await this.newAgent.com.atproto.server.activateAccount();
    await this.oldAgent.com.atproto.server.deactivateAccount({});
  }
}

/** Watches a PDS's firehose with the official consumer, which verifies every event. */
function watchFirehose(url: string, startCursor: number) {
  const events: Event[] = [];
  const errors: Error[] = [];
  const firehose = new Firehose({
    idResolver: testIdResolver(env.plc.url),
    service: url.replace('http', 'ws'),
    runner: new MemoryRunner({ startCursor }),
    handleEvent: (evt) => void events.push(evt),
    onError: (err) => void errors.push(err),
  });
  firehose.start();
  return {
    events,
    errors,
    async until(done: (events: Event[]) => boolean): Promise<void> {
      const deadline = Date.now() + 10_000;
      while (!done(events) && errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      await firehose.destroy();
    },
  };
}

describe('an account moves in with the official client, and later out again', () => {
  let old: AtpAgent;
  let did: string;
  let move: OfficialMigration;
  let before: Map<string, string>;
  let oldPreferences: unknown[];

  it('starts on the other PDS with posts, edits and deletes, a profile with an avatar, images and preferences', async () => {
    const [a] = env.servers;
    old = new AtpAgent({ service: a.url });
    await old.createAccount({ handle: 'mover.test', email: EMAIL, password: PASSWORD });
    did = old.session!.did;
    for (let start = 0; start < 300; start += 100) {
      const writes = Array.from({ length: 100 }, (_, i) => ({
        $type: 'com.atproto.repo.applyWrites#create' as const,
        collection: 'app.bsky.feed.post',
        rkey: tid(start + i),
        value: { $type: 'app.bsky.feed.post', text: `post ${start + i}`, createdAt: now() },
      }));
      await old.com.atproto.repo.applyWrites({ repo: did, writes });
    }
    for (let i = 0; i < 20; i++) {
      await old.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: tid(i), record: { $type: 'app.bsky.feed.post', text: `post ${i}, edited`, createdAt: now() } });
    }
    for (let i = 20; i < 40; i++) await old.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: tid(i) });
    const avatar = (await old.uploadBlob(pngOfSize(2000, 1), { encoding: 'image/png' })).data.blob;
    await old.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile', displayName: 'Mover', avatar } });
    for (let i = 0; i < 3; i++) {
      const image = (await old.uploadBlob(pngOfSize(3000 + i, 10 + i), { encoding: 'image/png' })).data.blob;
      await old.post({ text: `a picture ${i}`, createdAt: now(), embed: { $type: 'app.bsky.embed.images', images: [{ image, alt: `picture ${i}` }] } });
    }
    await old.app.bsky.actor.putPreferences({
      preferences: [
        { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true },
        { $type: 'app.bsky.actor.defs#personalDetailsPref', birthDate: '1990-04-01T00:00:00.000Z' },
        { $type: 'app.bsky.actor.defs#savedFeedsPrefV2', items: [{ id: '3l6ovcmm2vd2j', type: 'timeline', value: 'following', pinned: true }] },
      ],
    });
    before = await recordsOf(old, did);
    assert.equal(before.size, 280 + 1 + 3);
    oldPreferences = (await old.app.bsky.actor.getPreferences()).data.preferences;
    assert.ok(oldPreferences.some((p) => (p as { $type: string }).$type === 'app.bsky.actor.defs#declaredAgePref'));
  });

  it('createAccount here with a service token from the old PDS: an arriving account, deactivated to everyone', async () => {
    move = new OfficialMigration(old, env.servers[1].url, 'mover2.test');
    await move.createAccount();
    const session = (await move.newAgent.com.atproto.server.getSession()).data;
    assert.deepEqual([session.did, session.active, session.status], [did, false, 'deactivated']);
    const s = await status(move.newAgent);
    assert.deepEqual([s.activated, s.validDid, s.indexedRecords, s.expectedBlobs, s.importedBlobs], [false, false, 0, 0, 0]);
    const write = await xrpcError(move.newAgent.post({ text: 'too early', createdAt: now() }));
    assert.deepEqual([write.status, write.error], [401, 'AccountDeactivated']);
    const anyone = new AtpAgent({ service: env.servers[1].url });
    const read = await xrpcError(anyone.com.atproto.repo.describeRepo({ repo: did }));
    assert.deepEqual([read.status, read.error], [400, 'RepoDeactivated']);
    const repoStatus = (await anyone.com.atproto.sync.getRepoStatus({ did })).data;
    assert.deepEqual([repoStatus.active, repoStatus.status], [false, 'deactivated']);
    // the old PDS still serves the account
    assert.equal((await old.com.atproto.server.getSession()).data.active, true);
  });

  it('importRepo: every record, and the blobs they reference listed as missing', async () => {
    await move.importRepo();
    const s = await status(move.newAgent);
    assert.equal(s.indexedRecords, before.size);
    assert.equal(s.repoCommit, (await old.com.atproto.sync.getLatestCommit({ did })).data.cid);
    assert.deepEqual([s.expectedBlobs, s.importedBlobs], [4, 0]);
    assert.equal((await move.newAgent.com.atproto.repo.listMissingBlobs({})).data.blobs.length, 4);
  });

  it('copies the blobs until none is missing, and the preferences as the old PDS gives them', async () => {
    assert.equal(await move.copyBlobs(), 4);
    assert.deepEqual((await move.newAgent.com.atproto.repo.listMissingBlobs({})).data.blobs, []);
    const s = await status(move.newAgent);
    assert.deepEqual([s.expectedBlobs, s.importedBlobs], [4, 4]);
    await move.copyPreferences();
    assert.deepEqual((await move.newAgent.app.bsky.actor.getPreferences()).data.preferences, oldPreferences);
    assert.equal((await status(move.newAgent)).privateStateValues, 3, 'the declared age is computed, not stored');
  });

  it('refuses activation before the DID document points here, and an operation that does not point here', async () => {
    const early = await xrpcError(move.newAgent.com.atproto.server.activateAccount());
    assert.equal(early.status, 400);
    assert.match(early.message, /service endpoint|signing key|rotation key/);
    // an operation the old PDS signs without the recommended credentials keeps the DID there
    await old.com.atproto.identity.requestPlcOperationSignature();
    const token = await env.smtp.waitForToken(EMAIL);
    const { operation } = (await old.com.atproto.identity.signPlcOperation({ token })).data;
    const refused = await xrpcError(move.newAgent.com.atproto.identity.submitPlcOperation({ operation }));
    assert.equal(refused.status, 400);
    assert.match(refused.message, /rotation key|endpoint|signing key|handle/i);
    const s = await status(move.newAgent);
    assert.deepEqual([s.activated, s.validDid], [false, false]);
  });

  it('updates the DID document with the old PDS signing what this one recommends', async () => {
    await move.updateIdentity(() => env.smtp.waitForToken(EMAIL));
    const s = await status(move.newAgent);
    assert.deepEqual([s.activated, s.validDid], [false, true]);
    const doc = await testIdResolver(env.plc.url).did.resolveAtprotoData(did, true);
    assert.equal(doc.pds, env.servers[1].server.ctx.config.service.publicUrl);
    assert.equal(doc.handle, 'mover2.test');
  });

  it('activates: #identity, #account and a #sync the official consumer verifies; same records, same CIDs; a new post works', async () => {
    const ctx = env.servers[1].server.ctx;
    const watch = watchFirehose(env.servers[1].url, ctx.sequencer.latestSeq());
    assert.equal(crawlsOf(1), 0, 'nothing went live here yet');
    await move.finish();
    await watch.until((events) => events.some((e) => e.did === did && e.event === 'sync'));
    assert.deepEqual(watch.errors, []);
    const seen = watch.events.filter((e) => e.did === did).map((e) => (e.event === 'account' ? `account:${e.active}` : e.event));
    assert.deepEqual(seen, ['account:true', 'identity', 'sync']);
    for (let i = 0; i < 100 && crawlsOf(1) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(crawlsOf(1), 1, 'the relays are asked to crawl');

    const anyone = new AtpAgent({ service: env.servers[1].url });
    assert.deepEqual(await recordsOf(anyone, did), before);
    const car = (await anyone.com.atproto.sync.getRepo({ did })).data;
    const { root, blocks } = await readCarWithRoot(car);
    const key = await testIdResolver(env.plc.url).did.resolveAtprotoKey(did, true);
    assert.equal(key, ctx.accounts.byDid(did)!.signingKeyDid);
    const verified = await verifyRepo(blocks, root, did, key);
    assert.equal(verified.creates.length, before.size);

    const created = await move.newAgent.post({ text: 'hello from the new home', createdAt: now() });
    assert.match(created.uri, new RegExp(`^at://${did}/app.bsky.feed.post/`));
    assert.equal((await old.com.atproto.server.getSession()).data.active, false);
  });

  it('moves out again to a third PDS with the same official flow', async () => {
    const here = await loggedIn(env.servers[1].url, 'mover2.test', PASSWORD);
    const out = new OfficialMigration(here, env.servers[2].url, 'mover3.test');
    const beforeOut = await recordsOf(here, did);
    await out.createAccount();
    await out.importRepo();
    assert.ok((await out.copyBlobs()) >= 4);
    await out.copyPreferences();
    await out.updateIdentity(() => env.smtp.waitForToken(EMAIL));
    await out.finish();
    const anyone = new AtpAgent({ service: env.servers[2].url });
    assert.deepEqual(await recordsOf(anyone, did), beforeOut);
    const s = await status(out.newAgent);
    assert.deepEqual([s.activated, s.validDid, s.expectedBlobs, s.importedBlobs], [true, true, 4, 4]);
    assert.equal((await here.com.atproto.server.getSession()).data.status, 'deactivated');
  });

  it('getSession where the account left carries its DID document as it is now, naming the PDS it moved to', async () => {
    const endpointOf = (doc: unknown) => (doc as { service: Array<{ id: string; serviceEndpoint: string }> }).service.find((s) => s.id.endsWith('#atproto_pds'))?.serviceEndpoint;
    const [first, second, third] = env.servers.map((s) => s.server.ctx.config.service.publicUrl);
    // Each PDS's resolver forces at most one refresh a second per DID (minRefreshIntervalMs), and
    // the moves just before may have had them fetch the document within the last second: past that
    // second, every session answer below resolves it afresh.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // by hand: the official client would follow the document to the new PDS, as it should
    const call = async (nsid: string, init: RequestInit) => (await fetch(`${env.servers[1].url}/xrpc/${nsid}`, init)).json() as Promise<Record<string, unknown>>;
    const created = await call('com.atproto.server.createSession', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: 'mover2.test', password: PASSWORD }),
    });
    assert.equal(endpointOf(created.didDoc), third);
    const session = await call('com.atproto.server.getSession', { headers: { authorization: `Bearer ${created.accessJwt as string}` } });
    assert.equal(session.status, 'deactivated');
    assert.equal(endpointOf(session.didDoc), third);
    assert.deepEqual((session.didDoc as { alsoKnownAs: string[] }).alsoKnownAs, ['at://mover3.test']);
    // the first PDS too, two moves later; and the new home publishes itself
    const leftFirst = (await old.com.atproto.server.getSession()).data;
    assert.equal(endpointOf(leftFirst.didDoc), third);
    assert.notEqual(third, first);
    assert.notEqual(third, second);
    const home = await loggedIn(env.servers[2].url, 'mover3.test', PASSWORD);
    assert.equal(endpointOf((await home.com.atproto.server.getSession()).data.didDoc), third);
  });
});

describe('createAccount for an existing DID refuses what does not prove the DID, and changes nothing', () => {
  let old: AtpAgent;
  let did: string;
  let serviceDid: string;
  const target = () => env.servers[1];

  const create = async (authorization: string | undefined, body: Record<string, unknown> = {}) => {
    const res = await fetch(`${target().url}/xrpc/com.atproto.server.createAccount`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ did, handle: 'prover.test', email: 'prover@example.com', password: PASSWORD, ...body }),
    });
    return { status: res.status, cors: res.headers.get('access-control-allow-origin'), body: (await res.json()) as { error?: string; message?: string; did?: string } };
  };
  const tokenFor = async (params: { aud?: string; lxm?: string }) =>
    `Bearer ${(await old.com.atproto.server.getServiceAuth({ aud: params.aud ?? serviceDid, lxm: params.lxm ?? 'com.atproto.server.createAccount' })).data.token}`;
  const oldKeypair = () => {
    const { decodeSigningKey } = signingKeys;
    return decodeSigningKey(env.servers[0].server.ctx.accounts.byDid(did)!.signingKey);
  };
  /** A token with exactly these claims, signed with the DID's current key (no minting rules apply). */
  const signClaims = async (claims: Record<string, unknown>) => {
    const keypair = oldKeypair();
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${part({ typ: 'JWT', alg: keypair.alg })}.${part({ iss: did, aud: serviceDid, lxm: 'com.atproto.server.createAccount', ...claims })}`;
    return `${input}.${Buffer.from(await keypair.sign(Buffer.from(input))).toString('base64url')}`;
  };
  const refused = async (authorization: string | undefined, status: number, error: string) => {
    const res = await create(authorization);
    assert.deepEqual([res.status, res.body.error], [status, error], JSON.stringify(res.body));
    assert.equal(res.cors, '*', 'a browser tool sees the error');
    assert.equal(target().server.ctx.accounts.byDid(did), undefined, 'no account was created');
  };

  before(async () => {
    old = new AtpAgent({ service: env.servers[0].url });
    await old.createAccount({ handle: 'prover.test', email: 'prover@example.com', password: PASSWORD });
    did = old.session!.did;
    serviceDid = target().server.ctx.config.service.did;
  });

  it('answers 401 AuthenticationRequired without a token, or with one of another DID', async () => {
    await refused(undefined, 401, 'AuthenticationRequired');
    const other = new AtpAgent({ service: env.servers[0].url });
    await other.createAccount({ handle: 'bystander.test', email: 'bystander@example.com', password: PASSWORD });
    const theirs = (await other.com.atproto.server.getServiceAuth({ aud: serviceDid, lxm: 'com.atproto.server.createAccount' })).data.token;
    await refused(`Bearer ${theirs}`, 401, 'AuthenticationRequired');
  });

  it('answers 401 with the official names for a wrong audience, a wrong method, an expired token and another key', async () => {
    await refused(await tokenFor({ aud: 'did:web:elsewhere.test' }), 401, 'BadJwtAudience');
    await refused(await tokenFor({ lxm: 'com.atproto.repo.createRecord' }), 401, 'BadJwtLexiconMethod');
    const past = Date.now() - 10 * 60_000;
    const expired = await createServiceJwt({ iss: did, aud: serviceDid, lxm: 'com.atproto.server.createAccount', keypair: oldKeypair(), now: () => past });
    await refused(`Bearer ${expired}`, 401, 'JwtExpired');
    const forged = await createServiceJwt({ iss: did, aud: serviceDid, lxm: 'com.atproto.server.createAccount', keypair: await generateKeypair('ES256K') });
    await refused(`Bearer ${forged}`, 401, 'BadJwtSignature');
  });

  it('answers 401 BadJwt for a token that lives longer than the hour any PDS hands out, or claims to be issued later', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    await refused(`Bearer ${await signClaims({ iat: nowS, exp: nowS + 3 * 86_400, jti: 'for-days' })}`, 401, 'BadJwt');
    await refused(`Bearer ${await signClaims({ iat: nowS + 3600, exp: nowS + 3660, jti: 'from-the-future' })}`, 401, 'BadJwt');
  });

  it('accepts the audience with the #atproto_pds fragment, refuses the same token twice, resumes the same migration with a new one, and refuses a DID already hosted with 400 AlreadyExists', async () => {
    const token = await tokenFor({ aud: `${serviceDid}#atproto_pds` });
    const first = await create(token);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    // the very same token again is a replay, even from the migration it was minted for
    const replayed = await create(token);
    assert.deepEqual([replayed.status, replayed.body.error, replayed.cors], [401, 'BadJwt', '*'], JSON.stringify(replayed.body));
    assert.match(replayed.body.message ?? '', /already been used/);
    // the answer was lost: the same migration asks again, with a new token and the same password
    const again = await create(await tokenFor({}));
    assert.deepEqual([again.status, again.body.did], [200, did]);
    const wrongPassword = await create(await tokenFor({}), { password: 'another-password-1' });
    assert.deepEqual([wrongPassword.status, wrongPassword.body.error], [400, 'AlreadyExists']);
    // a live account is never taken over
    const live = new AtpAgent({ service: target().url });
    await live.createAccount({ handle: 'resident.test', email: 'resident@example.com', password: PASSWORD });
    const ownToken = (await live.com.atproto.server.getServiceAuth({ aud: serviceDid, lxm: 'com.atproto.server.createAccount' })).data.token;
    const res = await fetch(`${target().url}/xrpc/com.atproto.server.createAccount`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ownToken}` },
      body: JSON.stringify({ did: live.session!.did, handle: 'resident2.test', email: 'resident2@example.com', password: PASSWORD }),
    });
    assert.deepEqual([res.status, ((await res.json()) as { error: string }).error], [400, 'AlreadyExists']);
  });

  it('gives the account the signing key reserved for its DID', async () => {
    const mover = new AtpAgent({ service: env.servers[0].url });
    await mover.createAccount({ handle: 'reserver.test', email: 'reserver@example.com', password: PASSWORD });
    const moverDid = mover.session!.did;
    const reserved = (await new AtpAgent({ service: target().url }).com.atproto.server.reserveSigningKey({ did: moverDid })).data.signingKey;
    const token = (await mover.com.atproto.server.getServiceAuth({ aud: serviceDid, lxm: 'com.atproto.server.createAccount' })).data.token;
    const arriving = new AtpAgent({ service: target().url });
    await arriving.com.atproto.server.createAccount(
      { did: moverDid, handle: 'reserver.test', email: 'reserver@example.com', password: PASSWORD },
      { headers: { authorization: `Bearer ${token}` }, encoding: 'application/json' },
    );
    await arriving.login({ identifier: 'reserver.test', password: PASSWORD });
    const recommended = (await arriving.com.atproto.identity.getRecommendedDidCredentials()).data;
    assert.deepEqual(recommended.verificationMethods, { atproto: reserved });
  });
});
