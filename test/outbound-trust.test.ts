// Issue 12, finding 12: URLs the operator configured are trusted on their own (loopback included,
// no extra setting); URLs that users or DID documents control never reach private addresses unless
// development switches the protection off.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createAppIdentity } from '../src/identity/services.ts';
import { signUp, startAccountsEnv, type AccountsEnv } from './helpers/accounts-env.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestService, type TestService } from './helpers/services.ts';

const WELL_KNOWN_DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

let plc: TestPlc;
/** A service known only by its DID document, which puts its endpoint on loopback. */
let labeler: TestService;
/** Where `*.example.com` handles' well-knowns point: loopback, as a hostile DNS answer would. */
let wellKnown: { server: Server; port: number; hits: number };
/** A relay on loopback, configured in PDS_CRAWLERS. */
let crawler: { server: Server; url: string; heard: Promise<string> };

before(async () => {
  plc = await startTestPlc();
  labeler = await startTestService(plc.url, { serviceId: 'atproto_labeler', type: 'AtprotoLabeler' });
  wellKnown = { server: createServer((_req, res) => void (wellKnown.hits++, res.end(WELL_KNOWN_DID))), port: 0, hits: 0 };
  let hear: (body: string) => void = () => {};
  const heard = new Promise<string>((resolve) => (hear = resolve));
  const crawlerServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/xrpc/com.atproto.sync.requestCrawl') hear(Buffer.concat(chunks).toString('utf8'));
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  for (const server of [wellKnown.server, crawlerServer]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  wellKnown.port = (wellKnown.server.address() as AddressInfo).port;
  crawler = { server: crawlerServer, url: `http://127.0.0.1:${(crawlerServer.address() as AddressInfo).port}`, heard };
});
after(async () => {
  await labeler.close();
  await plc.close();
  wellKnown.server.close();
  crawler.server.close();
});

/** A PDS whose handle resolution finds well-knowns on the loopback server above (DNS stands in). */
async function startPds(env: Record<string, string>): Promise<AccountsEnv> {
  const pds = await startAccountsEnv({ PDS_DID_PLC_URL: plc.url, ...env });
  const { ctx } = pds;
  const identity = createAppIdentity({
    config: ctx.config,
    fetch: ctx.guardedFetch,
    plc: ctx.plc,
    handles: { resolveTxt: async () => [], wellKnownUrl: () => `http://127.0.0.1:${wellKnown.port}/.well-known/atproto-did` },
  });
  Object.assign(ctx, { identity });
  return pds;
}

const resolveHandle = (pds: AccountsEnv, handle: string) => fetch(`${pds.url}/xrpc/com.atproto.identity.resolveHandle?handle=${handle}`);

describe('a PDS with no outbound settings', () => {
  let pds: AccountsEnv;
  before(async () => {
    pds = await startPds({ PDS_CRAWLERS: crawler.url });
  });
  after(() => pds.close());

  it('creates accounts through the configured PLC on loopback and tells the configured crawler on loopback about writes', async () => {
    const alice = await signUp(pds, 'trust-alice');
    assert.match(alice.did, /^did:plc:/);
    await alice.agent.com.atproto.repo.createRecord({
      repo: alice.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'hello', createdAt: new Date().toISOString() },
    });
    assert.deepEqual(JSON.parse(await crawler.heard), { hostname: 'localhost' });
  });

  it('yet never lets resolveHandle reach a private address', async () => {
    const res = await resolveHandle(pds, 'victim.example.com');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'HandleNotFound');
    assert.equal(wellKnown.hits, 0);
  });

  it('and never forwards a call to a DID-document endpoint on a private address', async () => {
    const alice = await signUp(pds, 'trust-proxy');
    const res = await fetch(`${pds.url}/xrpc/com.atproto.label.queryLabels?uriPatterns=at://*`, {
      headers: { authorization: `Bearer ${alice.agent.session!.accessJwt}`, 'atproto-proxy': labeler.ref },
    });
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(res.status, 400, JSON.stringify(body));
    // (Refused as plain http before its address is even looked at: both are DID-document rules.)
    assert.match(body.message, /not an https URL|not a public address/);
    assert.equal(labeler.received.length, 0);
  });
});

describe('a PDS with SSRF protection disabled for development', () => {
  let pds: AccountsEnv;
  before(async () => {
    pds = await startPds({ PDS_DISABLE_SSRF_PROTECTION: 'true' });
  });
  after(() => pds.close());

  it('lets handles and DID-document endpoints reach loopback', async () => {
    const res = await resolveHandle(pds, 'dev.example.com');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { did: WELL_KNOWN_DID });
    const alice = await signUp(pds, 'dev-alice');
    const proxied = await fetch(`${pds.url}/xrpc/com.atproto.label.queryLabels?uriPatterns=at://*`, {
      headers: { authorization: `Bearer ${alice.agent.session!.accessJwt}`, 'atproto-proxy': labeler.ref },
    });
    assert.equal(proxied.status, 200);
    assert.equal(labeler.calls('com.atproto.label.queryLabels').length, 1);
  });
});
