import { Secp256k1Keypair } from '@atproto/crypto';
import BetterSqlite3 from 'better-sqlite3';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createBackup } from '../src/backup/backup.ts';
import type { Config } from '../src/config.ts';
import { checkAppView, checkDidDocument, checkHandle, checkRelayRepo, type DoctorAccount } from '../src/doctor/account-checks.ts';
import { runDoctor, type CheckResult } from '../src/doctor/index.ts';
import { checkRepo } from '../src/doctor/repo-check.ts';
import { checkBackups, checkFirehose, checkPlc, checkPublicUrl, checkRelays, checkServiceDid, checkSmtp, requestCrawls } from '../src/doctor/server-checks.ts';
import { HandleResolver } from '../src/identity/handle-resolver.ts';
import { createGuardedFetch } from '../src/net/guarded-fetch.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { freePort, startTestServer, type TestServer } from './helpers/server.ts';
import { startSmtpServer, type SmtpTestServer } from './helpers/smtp.ts';
import { json, startTestService, type TestService } from './helpers/services.ts';

/**
 * The doctor against local stand-ins: the server behind a TLS front with a test CA's
 * certificate, the test PLC, a relay stub answering getHostStatus/getRepoStatus, a stub AppView,
 * an SMTP server, DNS TXT answers and handle web hosts given to the checks.
 */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url), 'utf8');
const CA = [fixture('ca.pem')];

let plc: TestPlc;
let server: TestServer;
let tls: HttpsServer;
let relay: RelayStub;
let appView: TestService;
let smtp: SmtpTestServer;
let wellKnown: Server;
let frontPassesUpgrades = true;
const wellKnownDids = new Map<string, string>();
const txt = new Map<string, string[][]>();
let config: Config;
let alice: DoctorAccount;
let backupDir: string;

interface RelayStub {
  url: string;
  host: 'known' | 'unknown' | 'unimplemented';
  /** Hostnames asked to crawl, and what requestCrawl answers. */
  crawlRequests: string[];
  crawlAnswer: { status: number; body: object };
  repos: Map<string, { active: boolean; rev: string }>;
  close(): Promise<void>;
}

async function startRelayStub(): Promise<RelayStub> {
  const stub: RelayStub = { url: '', host: 'known', crawlRequests: [], crawlAnswer: { status: 200, body: {} }, repos: new Map(), close: async () => {} };
  const http = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://relay');
    if (url.pathname === '/xrpc/com.atproto.sync.requestCrawl' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      stub.crawlRequests.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { hostname: string }).hostname);
      return json(res, stub.crawlAnswer.status, stub.crawlAnswer.body);
    }
    if (stub.host === 'unimplemented') return json(res, 404, { error: 'MethodNotImplemented', message: 'no' });
    if (url.pathname === '/xrpc/com.atproto.sync.getHostStatus') {
      if (stub.host === 'unknown') return json(res, 400, { error: 'HostNotFound', message: 'host not found' });
      return json(res, 200, { hostname: url.searchParams.get('hostname'), status: 'active', seq: 42 });
    }
    if (url.pathname === '/xrpc/com.atproto.sync.getRepoStatus') {
      const repo = stub.repos.get(url.searchParams.get('did') ?? '');
      if (!repo) return json(res, 400, { error: 'RepoNotFound', message: 'repo not found' });
      return json(res, 200, { did: url.searchParams.get('did'), active: repo.active, rev: repo.rev });
    }
    json(res, 404, { error: 'NotFound' });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  stub.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  stub.close = () => new Promise((r) => http.close(() => r()));
  return stub;
}

const resolveTxt = async (name: string) => {
  const records = txt.get(name);
  if (!records) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return records;
};
const wellKnownUrl = (handle: string) => `http://127.0.0.1:${(wellKnown.address() as AddressInfo).port}/${handle}`;
const handles = () => new HandleResolver({ resolveTxt, wellKnownUrl, fetch: createGuardedFetch({ disableSsrfProtection: true }), devMode: true });

before(async () => {
  plc = await startTestPlc();
  relay = await startRelayStub();
  appView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView' });
  smtp = await startSmtpServer();
  wellKnown = createServer((req, res) => {
    const did = wellKnownDids.get((req.url ?? '').slice(1));
    res.statusCode = did ? 200 : 404;
    res.end(did ?? 'not found');
  });
  await new Promise<void>((r) => wellKnown.listen(0, '127.0.0.1', r));
  // A TLS front for the server, as Caddy or nginx would be, with the test CA's certificate for localhost.
  const tlsPort = await freePort();
  let backend = '';
  tls = createHttpsServer({ key: fixture('localhost.key'), cert: fixture('localhost.pem') }, (req, res) => {
    const upstream = request(`${backend}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  // WebSocket upgrades (the firehose) go through as raw bytes, unless the test turns that off.
  tls.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    if (!frontPassesUpgrades) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const { port } = new URL(backend);
    const upstream = connect(Number(port), '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => tls.listen(tlsPort, '127.0.0.1', r));
  server = await startTestServer({
    PDS_DID_PLC_URL: plc.url,
    PDS_PUBLIC_URL: `https://localhost:${tlsPort}`,
    PDS_CRAWLERS: relay.url,
    PDS_BSKY_APP_VIEW_URL: appView.url,
    PDS_BSKY_APP_VIEW_DID: appView.did,
    PDS_EMAIL_SMTP_URL: smtp.url,
    PDS_EMAIL_FROM_ADDRESS: 'noreply@squall.test',
    // Handles' well-knowns are served on loopback here: the development-only switch lets the doctor reach them.
    PDS_DISABLE_SSRF_PROTECTION: 'true',
  });
  backend = server.url;
  config = server.server.ctx.config;
  // Straight to the server: a client following the DID document would meet the test CA's certificate.
  const post = async (nsid: string, body: unknown, token?: string) =>
    (await (await fetch(`${server.url}/xrpc/${nsid}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })).json()) as Record<string, string>;
  const created = await post('com.atproto.server.createAccount', { handle: 'alice.test', email: 'alice@example.com', password: 'alice-password' });
  await post('com.atproto.repo.createRecord', { repo: created.did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'does anyone see this?', createdAt: new Date().toISOString() } }, created.accessJwt);
  const account = server.server.ctx.accounts.byDid(created.did)!;
  const rev = (server.server.ctx.db.prepare('SELECT rev FROM repo_root WHERE did = ?').get(account.did) as { rev: string }).rev;
  alice = { did: account.did, handle: account.handle, signingKeyDid: account.signingKeyDid, rev };
  txt.set('_atproto.alice.test', [[`did=${alice.did}`]]);
  relay.repos.set(alice.did, { active: true, rev });
  appView.on('app.bsky.actor.getProfile', (call, res) => {
    if (call.jwt?.iss !== alice.did) return json(res, 401, { error: 'AuthMissing', message: 'service auth required' });
    const actor = new URLSearchParams(call.search).get('actor');
    if (actor === alice.did) json(res, 200, { did: alice.did, handle: alice.handle });
    else json(res, 400, { error: 'InvalidRequest', message: 'Profile not found' });
  });
  backupDir = mkdtempSync(join(tmpdir(), 'squall-doctor-'));
  await createBackup({ storage: config.storage, root: backupDir, server: { version: config.version, hostname: config.service.hostname, serviceDid: config.service.did } });
});
after(async () => {
  await server?.close();
  await new Promise((r) => tls.close(r));
  await new Promise((r) => wellKnown.close(r));
  await relay.close();
  await appView.close();
  await smtp.close();
  await plc.close();
  if (backupDir) rmSync(backupDir, { recursive: true, force: true });
});

const byCheck = (results: CheckResult[], check: string) => results.find((r) => r.check === check)!;

describe('the doctor', () => {
  it('passes every check of a healthy server and account', async () => {
    const results = await runDoctor({ config, ca: CA, resolveTxt, wellKnownUrl, backupDir });
    const notPassing = results.filter((r) => r.status !== 'pass' && r.check !== 'disk space');
    assert.deepEqual(notPassing, []);
    assert.deepEqual(
      results.map((r) => r.check),
      [
        'public URL',
        'service DID',
        'firehose',
        'PLC directory',
        `relay ${relay.url}`,
        'SMTP',
        'disk space',
        'backups',
        'handle alice.test',
        `DID document ${alice.did}`,
        'repo of alice.test',
        `relay ${relay.url} has alice.test`,
        `AppView ${appView.url} sees alice.test`,
      ],
    );
    assert.match(byCheck(results, 'public URL').message, /answers _health over HTTPS with a valid certificate/);
    assert.match(byCheck(results, 'firehose').message, /^wss:\/\/localhost:\d+\/xrpc\/com\.atproto\.sync\.subscribeRepos accepts a WebSocket subscription$/);
    assert.match(byCheck(results, 'repo of alice.test').message, new RegExp(`\\(rev ${alice.rev}\\) signed by the account's key, 1 record in a complete tree`));
  });

  it('fails the firehose behind a reverse proxy that does not pass WebSocket upgrades', async () => {
    frontPassesUpgrades = false;
    try {
      const firehose = await checkFirehose(config, { ca: CA });
      assert.equal(firehose.status, 'fail');
      assert.match(firehose.message, /subscribeRepos answers 400 instead of taking the WebSocket upgrade: relays cannot read this server's posts/);
      assert.match(firehose.fix!, /proxy_set_header Upgrade \$http_upgrade/);
    } finally {
      frontPassesUpgrades = true;
    }
  });

  it('asks the relays to crawl with --request-crawl, and names what a relay answers when it refuses', async () => {
    const earlier = relay.crawlRequests.length; // the server's own, after the first write
    const asked = await runDoctor({ config, ca: CA, resolveTxt, wellKnownUrl, backupDir, handle: 'alice.test', requestCrawl: true });
    assert.deepEqual(relay.crawlRequests.slice(earlier), ['localhost']);
    assert.equal(byCheck(asked, `crawl request to ${relay.url}`).status, 'pass');
    relay.crawlAnswer = { status: 400, body: { error: 'InvalidRequest', message: 'could not reach host: describeServer failed' } };
    try {
      const [refused] = await requestCrawls(config, {});
      assert.equal(refused.status, 'fail');
      assert.match(refused.message, /refused \(400 InvalidRequest: could not reach host: describeServer failed\)/);
      assert.match(refused.fix!, /make the public URL and firehose checks pass/);
    } finally {
      relay.crawlAnswer = { status: 200, body: {} };
      relay.crawlRequests.length = 0;
    }
  });

  it('fails a repo whose head is not signed by the account\'s key, or whose tree has a corrupt block', async () => {
    const other = await Secp256k1Keypair.create();
    const copyDir = mkdtempSync(join(tmpdir(), 'squall-doctor-db-'));
    const copy = join(copyDir, 'copy.sqlite');
    const live = new BetterSqlite3(config.storage.dbFile, { readonly: true });
    live.exec(`VACUUM INTO '${copy}'`);
    live.close();
    const db = new BetterSqlite3(copy);
    try {
      const rekeyed = await checkRepo({ ...alice, signingKeyDid: other.did() }, db);
      assert.equal(rekeyed.status, 'fail');
      assert.match(rekeyed.message, new RegExp(`^does not verify: commit \\S+ is not signed by ${other.did()}$`));
      const { data } = db.prepare('SELECT data FROM repo_root WHERE did = ?').get(alice.did) as { data: string };
      db.prepare('UPDATE repo_block SET bytes = ? WHERE did = ? AND cid = ?').run(Buffer.from('not the node'), alice.did, data);
      const corrupt = await checkRepo(alice, db);
      assert.equal(corrupt.status, 'fail');
      assert.equal(corrupt.message, `does not verify: block ${data} does not match its CID (the bytes are corrupt)`);
      assert.match(corrupt.fix!, /npm run admin -- verify/);
    } finally {
      db.close();
      rmSync(copyDir, { recursive: true, force: true });
    }
  });

  it('gives up on a service that accepts the connection but never answers, and says so', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const plcSilent = await checkPlc({ ...config, identity: { ...config.identity, plcUrl: url } }, { timeoutMs: 300 });
      assert.equal(plcSilent.status, 'fail');
      assert.match(plcSilent.message, /cannot be reached: no complete answer within 0\.3 s/);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('fails the public URL on a certificate no trusted authority issued, one for another name, and a closed port', async () => {
    const untrusted = await checkPublicUrl(config, {});
    assert.equal(untrusted.status, 'fail');
    assert.match(untrusted.message, /answers, but its certificate is not issued by a trusted authority/);
    assert.match(untrusted.fix!, /certificate from a public authority covering localhost/);
    const port = new URL(config.service.publicUrl).port;
    const otherName = await checkPublicUrl(withService({ publicUrl: `https://127.0.0.1:${port}` }), { ca: CA });
    assert.match(otherName.message, /its certificate is for another name \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    const closed = await checkPublicUrl(withService({ publicUrl: `https://localhost:${await freePort()}` }), { ca: CA });
    assert.match(closed.message, /cannot be reached: the connection was refused/);
    const plain = await checkPublicUrl(withService({ publicUrl: 'http://pds.example.com' }), {});
    assert.match(plain.message, /apps and relays reach a PDS over HTTPS only/);
  });

  it('fails the service DID when describeServer names another, and the PLC directory when it is unreachable', async () => {
    const other = await checkServiceDid(withService({ did: 'did:web:other.example.com' }), { ca: CA });
    assert.equal(other.status, 'fail');
    assert.match(other.message, /says did:web:localhost, this configuration says did:web:other\.example\.com/);
    const plcDown = await checkPlc({ ...config, identity: { ...config.identity, plcUrl: `http://127.0.0.1:${await freePort()}` } }, {});
    assert.match(plcDown.message, /cannot be reached: the connection was refused/);
  });

  it('fails without relays, for a relay that does not know the host, and warns for one that cannot say', async () => {
    const none = await checkRelays({ ...config, crawlers: [] }, {});
    assert.match(none.results[0].message, /PDS_CRAWLERS is empty/);
    assert.match(none.results[0].fix!, /PDS_CRAWLERS=https:\/\/bsky\.network/);
    try {
      relay.host = 'unknown';
      const unknown = await checkRelays(config, {});
      assert.equal(unknown.results[0].status, 'fail');
      assert.match(unknown.results[0].message, /does not know localhost/);
      assert.match(unknown.results[0].fix!, /npm run admin -- doctor --request-crawl/);
      relay.host = 'unimplemented';
      const silent = await checkRelays(config, {});
      assert.equal(silent.results[0].status, 'warn');
      assert.match(silent.results[0].message, /does not answer com\.atproto\.sync\.getHostStatus/);
    } finally {
      relay.host = 'known';
    }
  });

  it('fails a repo the relay does not have and warns when the relay is behind', async () => {
    const target = { url: relay.url, knowsHost: true };
    const missing = await checkRelayRepo({ ...alice, did: 'did:plc:nobodyhereatall0000000000' }, target, {});
    assert.equal(missing.status, 'fail');
    assert.match(missing.message, /does not know this repo/);
    relay.repos.set(alice.did, { active: true, rev: '2222222222222' });
    try {
      const behind = await checkRelayRepo(alice, target, {});
      assert.equal(behind.status, 'warn');
      assert.match(behind.message, new RegExp(`relay is at rev 2222222222222, this server at ${alice.rev}`));
    } finally {
      relay.repos.set(alice.did, { active: true, rev: alice.rev! });
    }
  });

  it('fails a handle that resolves nowhere or to another DID', async () => {
    const nowhere = await checkHandle({ ...alice, handle: 'bob.test' }, handles(), config);
    assert.equal(nowhere.status, 'fail');
    assert.match(nowhere.message, /resolves to no DID/);
    assert.match(nowhere.fix!, /wildcard DNS record \*\.test/);
    txt.set('_atproto.carol.example.com', [['did=did:plc:someoneelse000000000000']]);
    const elsewhere = await checkHandle({ ...alice, handle: 'carol.example.com' }, handles(), config);
    assert.match(elsewhere.message, /DNS TXT _atproto\.carol\.example\.com names did:plc:someoneelse000000000000, not this account's/);
    wellKnownDids.set('dave.example.com', alice.did);
    const viaHttps = await checkHandle({ ...alice, handle: 'dave.example.com' }, handles(), config);
    assert.equal(viaHttps.status, 'pass');
    assert.match(viaHttps.message, /HTTPS well-known/);
  });

  it('fails a DID document that names another PDS, another key or another handle', async () => {
    const dids = server.server.ctx.identity.dids;
    const moved = await checkDidDocument(alice, dids, withService({ publicUrl: 'https://new-pds.example.com' }));
    assert.equal(moved.status, 'fail');
    assert.match(moved.message, /its atproto_pds endpoint is https:\/\/localhost:\d+, not https:\/\/new-pds\.example\.com/);
    const rekeyed = await checkDidDocument({ ...alice, signingKeyDid: 'did:key:zQ3shOther' }, dids, config);
    assert.match(rekeyed.message, /its #atproto key is did:key:\S+, not the account's signing key did:key:zQ3shOther/);
    const renamed = await checkDidDocument({ ...alice, handle: 'alice2.test' }, dids, config);
    assert.match(renamed.message, /its handle is alice\.test, not alice2\.test/);
    assert.match(renamed.fix!, /updateHandle/);
  });

  it('fails an account the AppView does not have, SMTP that does not answer, and a missing backup', async () => {
    const unseen = await checkAppView({ ...alice, did: 'did:plc:nobodyhereatall0000000000' }, config, {});
    assert.equal(unseen?.status, 'fail');
    assert.match(unseen!.message, /the AppView does not have this account \(401: service auth required\)/);
    const asAccount = await runDoctor({ config, ca: CA, resolveTxt, wellKnownUrl, backupDir, handle: 'alice.test' });
    assert.equal(byCheck(asAccount, `AppView ${appView.url} sees alice.test`).status, 'pass', 'with the account\'s service-auth token');
    appView.on('app.bsky.actor.getProfile', (_call, res) => json(res, 400, { error: 'InvalidRequest', message: 'Profile not found' }));
    const notIndexed = byCheck(await runDoctor({ config, ca: CA, resolveTxt, wellKnownUrl, backupDir, handle: 'alice.test' }), `AppView ${appView.url} sees alice.test`);
    assert.equal(notIndexed.status, 'fail');
    assert.match(notIndexed.message, /the AppView does not have this account \(400: Profile not found\)/);
    assert.match(notIndexed.fix!, /fix the relay checks above first/);
    const smtpDown = await checkSmtp({ ...config, email: { ...config.email, smtpUrl: `smtp://127.0.0.1:${await freePort()}` } });
    assert.equal(smtpDown.status, 'fail');
    assert.match(smtpDown.message, /does not accept a connection/);
    const empty = mkdtempSync(join(tmpdir(), 'squall-doctor-empty-'));
    try {
      const noBackup = await checkBackups(config, empty);
      assert.match(noBackup.message, /no complete backup in/);
      const old = await checkBackups(config, backupDir, Date.now() + 3 * 86_400_000);
      assert.equal(old.status, 'fail');
      assert.match(old.message, /h old \(more than twice the interval\)/);
      assert.equal((await checkBackups(config)).status, 'warn');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('runs from the admin CLI, lists what failed with what to do, as JSON with --json, and exits 1', async () => {
    const env = { ...process.env, PDS_DATA_DIRECTORY: server.dataDir, PDS_PUBLIC_URL: config.service.publicUrl, PDS_DID_PLC_URL: plc.url, PDS_DISABLE_SSRF_PROTECTION: 'true', PDS_CRAWLERS: relay.url };
    const run = (args: string[]) =>
      new Promise<{ status: number; stdout: string }>((resolve) =>
        execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'admin', 'doctor', ...args], { encoding: 'utf8', timeout: 60_000, env }, (err, stdout) =>
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout }),
        ),
      );
    const text = await run(['--handle', 'alice.test']);
    assert.equal(text.status, 1);
    assert.match(text.stdout, /✗ public URL: https:\/\/localhost:\d+ answers, but its certificate is not issued by a trusted authority/);
    assert.match(text.stdout, /\n {4}→ serve a certificate from a public authority/);
    assert.match(text.stdout, /✔ PLC directory: /);
    assert.match(text.stdout, /\d+ checks passed, \d+ failed, \d+ warnings/);
    const asJson = await run(['--json', '--handle', 'alice.test']);
    assert.equal(asJson.status, 1);
    const results = JSON.parse(asJson.stdout) as CheckResult[];
    assert.equal(byCheck(results, 'public URL').status, 'fail');
    assert.ok(byCheck(results, 'public URL').fix);
    assert.ok(results.some((r) => r.check === `DID document ${alice.did}`));
  });
});

function withService(patch: Partial<Config['service']>): Config {
  return { ...config, service: { ...config.service, ...patch } };
}
