// What an OAuth access token costs the server, against a session JWT (issue 14): authenticated
// createRecord and getSession, and getRecord (a public read, sent with the credentials as apps do),
// each with `Authorization: Bearer <session JWT>` and with `Authorization: DPoP <token>` plus a fresh
// DPoP proof (the session run signs one too and drops it, so the client's work is the same).
// Squall and the reference PDS side by side; server CPU per request from /proc (with its user-space
// share), in paired, interleaved rounds (the machine is shared). docs/benchmarks.md explains it.
//
//   node --import tsx bench/oauth.ts [--connections 2] [--duration 3] [--warmup 1] [--reps 5] [--skip-reference]
//                                    [--only createRecord,getSession,getRecord] [--cpu-prof <dir>]
//
// --cpu-prof writes a V8 CPU profile of the Squall server (only) into <dir> when it stops.
//
// The reference runs with REFPDS_DEV_MODE=true (its OAuth pages need its public URL to be
// http://localhost:<port>); in that mode it also validates every XRPC answer against its lexicons,
// which costs the session and the OAuth path the same, so compare differences, not totals.
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { JoseKey, requestLocalLock, type NodeSavedSession } from '@atproto/oauth-client-node';
import { boolFlag, numberFlag, parseArgs, rejectUnknownFlags, UsageError } from './lib/args.ts';
import { startLocalPlc } from './lib/plc.ts';
import { findFreePort } from './lib/processes.ts';
import { sampleProcess } from './lib/proc.ts';
import { referencePlcUrl, startReferencePds } from './lib/refpds.ts';
import { startSquall } from './lib/squall.ts';
import { median, percentile } from './lib/stats.ts';
import { formatNumber, markdownTable } from './lib/table.ts';
import type { Target } from './lib/target.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { oauthClient } from '../test/helpers/oauth.ts';
import { DpopKey, ManualClient } from '../test/helpers/oauth-manual.ts';

const args = parseArgs(process.argv.slice(2));
rejectUnknownFlags(args, ['connections', 'duration', 'warmup', 'reps', 'quiet', 'skip-reference', 'only', 'cpu-prof']);
const connections = numberFlag(args, 'connections', 2, 1, 64);
const durationMs = numberFlag(args, 'duration', 3, 0.5, 60) * 1000;
const warmupMs = numberFlag(args, 'warmup', 1, 0, 30) * 1000;
const reps = numberFlag(args, 'reps', 5, 1, 50);
const quiet = boolFlag(args, 'quiet');
const skipReference = boolFlag(args, 'skip-reference');
const METHODS = ['createRecord', 'getSession', 'getRecord'] as const;
const only = (args.flags.get('only') ?? METHODS.join(',')).split(',');
for (const name of only) if (!(METHODS as readonly string[]).includes(name)) throw new UsageError(`--only takes a list of ${METHODS.join(', ')}; got "${name}"`);
const cpuProfDir = args.flags.get('cpu-prof');
if (cpuProfDir === 'true') throw new UsageError('--cpu-prof takes the directory to write the profile into');
const PASSWORD = 'bench-password-1';
const SCOPE = 'atproto transition:generic';

/** A DPoP key the load generator signs with on node:crypto (cheaper than jose, so the client does not starve the server). */
class FastDpop {
  readonly header: string;
  readonly hash: string;
  nonce: string | undefined;
  constructor(readonly privateKey: KeyObject = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) {
    const { kty, crv, x, y } = privateKey.export({ format: 'jwk' });
    const alg = ({ 'P-256': ['ES256', 'sha256'], 'P-384': ['ES384', 'sha384'], 'P-521': ['ES512', 'sha512'] } as const)[crv as 'P-256'];
    if (alg === undefined) throw new Error(`DPoP key on curve ${crv}: not one this load generator signs with`);
    this.hash = alg[1];
    this.header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: alg[0], jwk: { kty, crv, x, y } })).toString('base64url');
  }
  proof(htm: string, htu: string, ath: string): string {
    const payload = Buffer.from(JSON.stringify({ htm, htu, jti: randomBytes(12).toString('base64url'), iat: Math.floor(Date.now() / 1000), nonce: this.nonce, ath })).toString('base64url');
    const input = `${this.header}.${payload}`;
    return `${input}.${sign(this.hash, Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }
}

/** One server with an account, its session JWT and an OAuth grant bound to `dpop`. */
interface Subject {
  target: Target;
  /** What DPoP proofs name as `htu` (the server's public URL). */
  publicUrl: string;
  did: string;
  sessionJwt: string;
  oauthToken: string;
  dpop: FastDpop;
  agent: http.Agent;
  rkey?: string;
  /** Squall's metrics listener: writes per commit group explain createRecord's CPU per write. */
  metricsUrl?: string;
}

interface Scenario {
  name: string;
  kind: 'session' | 'oauth';
  method: 'GET' | 'POST';
  path: (s: Subject) => string;
  body?: (s: Subject) => string;
}

// Each method's session and OAuth runs back to back (ABBA over the rounds), so the difference is
// taken between neighbours: slow drifts (the load of the machine, a repo that grows) cancel.
const SCENARIOS: Scenario[] = (
  [
    { name: 'createRecord', method: 'POST', path: () => '/xrpc/com.atproto.repo.createRecord', body: (s) => post(s.did) },
    { name: 'getSession', method: 'GET', path: () => '/xrpc/com.atproto.server.getSession' },
    { name: 'getRecord', method: 'GET', path: (s) => `/xrpc/com.atproto.repo.getRecord?repo=${s.did}&collection=app.bsky.feed.post&rkey=${s.rkey}` },
  ] satisfies Omit<Scenario, 'kind'>[]
)
  .filter((scenario) => only.includes(scenario.name))
  .flatMap((scenario) => (['session', 'oauth'] as const).map((kind): Scenario => ({ ...scenario, kind })));

const plc = await startLocalPlc();
const stops: Array<() => Promise<void>> = [() => plc.stop()];
try {
  const subjects: Subject[] = [];
  const metricsPort = await findFreePort();
  const squall = await startSquall({
    plcUrl: plc.url,
    env: { PDS_METRICS_LISTEN: `127.0.0.1:${metricsPort}`, ...(cpuProfDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${resolve(cpuProfDir)}` } : {}) },
  });
  stops.unshift(() => squall.stop());
  subjects.push({ ...(await squallSubject(squall)), metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` });
  if (!skipReference) {
    const reference = await startReferencePds({ env: { REFPDS_DEV_MODE: 'true' } });
    stops.unshift(() => reference.stop());
    subjects.push(await referenceSubject(reference));
  }
  for (const s of subjects) {
    const record = await call(s, 'POST', '/xrpc/com.atproto.repo.createRecord', { authorization: `Bearer ${s.sessionJwt}` }, post(s.did));
    s.rkey = String((JSON.parse(record.body) as { uri: string }).uri.split('/').pop());
  }

  const loads: number[][] = [loadavg()];
  const cpu = new Map<string, number[]>();
  const userCpu = new Map<string, number[]>();
  const rates = new Map<string, number[]>();
  const groups = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, key: string, v: number) => (m.get(key) ?? m.set(key, []).get(key)!).push(v);
  for (let round = 0; round < reps; round++) {
    // Interleaved, in the opposite order every other round, so background load is spread over all of them.
    const runs = subjects.flatMap((s) => SCENARIOS.map((scenario) => ({ s, scenario })));
    for (const { s, scenario } of round % 2 === 0 ? runs : runs.reverse()) {
      const key = `${s.target.label} ${scenario.name} ${scenario.kind}`;
      const result = await measure(s, scenario);
      push(cpu, key, result.cpuUsPerRequest);
      push(userCpu, key, result.userUsPerRequest);
      push(rates, key, result.rate);
      if (result.writesPerGroup !== undefined) push(groups, key, result.writesPerGroup);
      if (!quiet) process.stderr.write(`round ${round + 1}/${reps} ${key}: ${result.cpuUsPerRequest.toFixed(0)} us/req, ${result.rate.toFixed(0)} req/s\n`);
    }
    loads.push(loadavg());
  }
  const rows = subjects.flatMap((s) =>
    only.map((name) => {
      const at = (kind: string, m: Map<string, number[]>) => median(m.get(`${s.target.label} ${name} ${kind}`) ?? []);
      const [session, oauth] = [at('session', cpu), at('oauth', cpu)];
      // The median of each round's difference, not the difference of the medians.
      const roundDiffs = (m: Map<string, number[]>) => {
        const [sessions, oauths] = [m.get(`${s.target.label} ${name} session`) ?? [], m.get(`${s.target.label} ${name} oauth`) ?? []];
        return oauths.map((o, i) => o - sessions[i]).sort((a, b) => a - b);
      };
      const diffs = roundDiffs(cpu);
      const diff = median(diffs);
      const spread = diffs.length >= 4 ? `${formatNumber(percentile(diffs, 25))} to ${formatNumber(percentile(diffs, 75))}` : '';
      const perGroup = (kind: string) => formatNumber(at(kind, groups), 2);
      return [
        s.target.label,
        name,
        formatNumber(session),
        formatNumber(oauth),
        formatNumber(diff),
        spread,
        formatNumber(median(roundDiffs(userCpu))),
        formatNumber(at('session', rates)),
        formatNumber(at('oauth', rates)),
        groups.has(`${s.target.label} ${name} session`) ? `${perGroup('session')} / ${perGroup('oauth')}` : '',
      ];
    }),
  );
  const load = loads.map((l) => l[0]);
  process.stdout.write(
    `${subjects.map((s) => s.target.description).join('; ')}\n` +
      `${connections} connection${connections === 1 ? '' : 's'}, ${reps} interleaved rounds of ${durationMs / 1000} s (medians); ` +
      `load average (1 min) ${formatNumber(Math.min(...load), 1)}-${formatNumber(Math.max(...load), 1)} on ${availableParallelism()} cores\n\n` +
      `${markdownTable(
        ['server', 'method', 'session: server CPU µs/req', 'OAuth DPoP: server CPU µs/req', 'OAuth − session µs (median of rounds)', 'its quartiles over rounds', 'of which user space µs', 'session req/s', 'OAuth req/s', 'writes per commit group (session / OAuth)'],
        rows,
        [2, 3, 4, 6, 7, 8],
      )}\n`,
  );
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
}

async function createAccount(target: Target): Promise<{ did: string; accessJwt: string; handle: string }> {
  const handle = `bench-oauth-${randomBytes(3).toString('hex')}.test`;
  const res = await fetch(`${target.url}/xrpc/com.atproto.server.createAccount`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handle, email: `${handle}@example.com`, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`${target.label} createAccount: ${res.status} ${await res.text()}`);
  return { ...((await res.json()) as { did: string; accessJwt: string }), handle };
}

async function squallSubject(target: Target): Promise<Subject> {
  const publicUrl = ((await (await fetch(`${target.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string }).issuer;
  const account = await createAccount(target);
  // An OAuth grant through the real flow (PAR, the pages, the token endpoint), as an app gets one,
  // bound to the key the load generator signs its proofs with.
  const dpop = new FastDpop();
  const manual = new ManualClient(publicUrl, await DpopKey.fromKeyObject(dpop.privateKey), SCOPE);
  const oauthToken = (await manual.signIn(account.handle, PASSWORD)).access;
  dpop.nonce = manual.nonce;
  return { target, publicUrl, did: account.did, sessionJwt: account.accessJwt, oauthToken, dpop, agent: new http.Agent({ keepAlive: true, maxSockets: connections }) };
}

/** The reference's grant: the official client, and its sign-in and consent pages in Chromium. */
async function referenceSubject(target: Target): Promise<Subject> {
  const publicUrl = `http://localhost:${new URL(target.url).port}`;
  const account = await createAccount(target);
  const saved = new Map<string, NodeSavedSession>();
  const redirect = 'http://127.0.0.1/callback';
  const client = oauthClient({
    plcUrl: referencePlcUrl(),
    pdsUrl: publicUrl,
    clientMetadata: {
      client_id: `http://localhost?redirect_uri=${encodeURIComponent(redirect)}&scope=${encodeURIComponent(SCOPE)}`,
      redirect_uris: [redirect],
      scope: SCOPE,
      token_endpoint_auth_method: 'none',
      dpop_bound_access_tokens: true,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
    },
    sessionStore: { get: async (k) => saved.get(k), set: async (k, v) => void saved.set(k, v), del: async (k) => void saved.delete(k) },
    // ES256 DPoP keys on both servers (the client would pick ES256K, the reference's first choice).
    runtimeImplementation: {
      requestLock: requestLocalLock,
      createKey: () => JoseKey.generate(['ES256']),
      getRandomValues: randomBytes,
      digest: (bytes, algorithm) => createHash(algorithm.name).update(bytes).digest(),
    },
  });
  const url = await client.authorize(publicUrl, { scope: SCOPE });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    let landed: URL | undefined;
    // Seen as the browser asks for it (nothing listens there, and the reference's redirect is not
    // one Playwright's routing catches).
    context.on('request', (request) => {
      if (request.url().startsWith(`${redirect}?`)) landed = new URL(request.url());
    });
    const page = await context.newPage();
    await page.goto(String(url));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('input[name=username]').fill(account.handle);
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Authorize' }).click();
    for (let i = 0; i < 100 && landed === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    if (landed === undefined) throw new Error('the reference never sent the browser back to the app');
    await client.callback(landed.searchParams);
  } finally {
    await browser.close();
  }
  const session = saved.get(account.did);
  if (session === undefined) throw new Error('the reference OAuth flow left no session');
  const dpop = new FastDpop(createPrivateKey({ key: session.dpopJwk as JsonWebKey, format: 'jwk' }));
  return { target, publicUrl, did: account.did, sessionJwt: account.accessJwt, oauthToken: session.tokenSet.access_token, dpop, agent: new http.Agent({ keepAlive: true, maxSockets: connections }) };
}

async function measure(s: Subject, scenario: Scenario): Promise<{ cpuUsPerRequest: number; userUsPerRequest: number; rate: number; writesPerGroup?: number }> {
  const path = scenario.path(s);
  const ath = createHash('sha256').update(s.oauthToken).digest('base64url');
  // Both runs sign a proof per request, the session run's thrown away: the load generator shares
  // the cores with the server, and its signing (and what that does to the caches) must be the same
  // in both, or the OAuth run's server figure carries some of it.
  const auth = (): Record<string, string> => {
    const proof = s.dpop.proof(scenario.method, `${s.publicUrl}${path.split('?')[0]}`, ath);
    return scenario.kind === 'session' ? { authorization: `Bearer ${s.sessionJwt}` } : { authorization: `DPoP ${s.oauthToken}`, dpop: proof };
  };
  const run = async (ms: number) => {
    let done = 0;
    const until = performance.now() + ms;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          let res = await call(s, scenario.method, path, auth(), scenario.body?.(s));
          if (res.status === 401 && res.nonceRequired) {
            // The nonce rotated: retry with the one the answer carried, as clients do (both counted).
            done++;
            res = await call(s, scenario.method, path, auth(), scenario.body?.(s));
          }
          if (res.status !== 200) throw new Error(`${s.target.label} ${scenario.kind} ${scenario.name}: ${res.status} ${res.body.slice(0, 200)}`);
          done++;
        }
      }),
    );
    return done;
  };
  await run(warmupMs);
  const countGroups = scenario.method === 'POST' && s.metricsUrl !== undefined;
  const groupsBefore = countGroups ? await commitGroups(s.metricsUrl!) : undefined;
  const before = sampleProcess(s.target.pid)!;
  const started = performance.now();
  const done = await run(durationMs);
  const elapsed = performance.now() - started;
  const after = sampleProcess(s.target.pid)!;
  const groupsAfter = countGroups ? await commitGroups(s.metricsUrl!) : undefined;
  const writesPerGroup = groupsBefore && groupsAfter ? (groupsAfter.writes - groupsBefore.writes) / (groupsAfter.groups - groupsBefore.groups) : undefined;
  return { cpuUsPerRequest: (after.cpuUs - before.cpuUs) / done, userUsPerRequest: (after.userCpuUs - before.userCpuUs) / done, rate: (done * 1000) / elapsed, writesPerGroup };
}

/** Squall's group-commit totals (`squall_commit_group_writes`: _sum writes in _count groups). */
async function commitGroups(url: string): Promise<{ writes: number; groups: number }> {
  const text = await (await fetch(url)).text();
  const value = (suffix: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`squall_commit_group_writes_${suffix}`));
    return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return { writes: value('sum'), groups: value('count') };
}

function post(did: string): string {
  return JSON.stringify({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'benchmark post', createdAt: new Date().toISOString() } });
}

function call(s: Subject, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string; nonceRequired: boolean }> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string> = { ...headers };
    if (body !== undefined) all['content-type'] = 'application/json';
    const req = http.request(`${s.target.url}${path}`, { method, agent: s.agent, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const nonce = res.headers['dpop-nonce'];
        if (typeof nonce === 'string') s.dpop.nonce = nonce;
        const text = Buffer.concat(chunks).toString();
        const nonceRequired = text.includes('use_dpop_nonce') || String(res.headers['www-authenticate'] ?? '').includes('use_dpop_nonce');
        resolve({ status: res.statusCode ?? 0, body: text, nonceRequired });
      });
    });
    req.once('error', reject);
    req.end(body);
  });
}
