// What an OAuth access token costs the server, against a session JWT (issue 14): authenticated
// createRecord and getSession, and getRecord (a public read, sent with the credentials as apps do),
// each with `Authorization: Bearer <session JWT>` and with `Authorization: DPoP <token>` plus a fresh
// DPoP proof. Server CPU per request from /proc, in interleaved rounds (the machine is shared).
//
//   node --import tsx bench/oauth.ts [--connections 4] [--duration 3] [--warmup 1] [--reps 5]
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { boolFlag, numberFlag, parseArgs, rejectUnknownFlags } from './lib/args.ts';
import { startLocalPlc } from './lib/plc.ts';
import { sampleProcess } from './lib/proc.ts';
import { startSquall } from './lib/squall.ts';
import { median } from './lib/stats.ts';
import { formatNumber, markdownTable } from './lib/table.ts';
import { DpopKey, ManualClient } from '../test/helpers/oauth-manual.ts';

const args = parseArgs(process.argv.slice(2));
rejectUnknownFlags(args, ['connections', 'duration', 'warmup', 'reps', 'quiet']);
const connections = numberFlag(args, 'connections', 4, 1, 64);
const durationMs = numberFlag(args, 'duration', 3, 0.5, 60) * 1000;
const warmupMs = numberFlag(args, 'warmup', 1, 0, 30) * 1000;
const reps = numberFlag(args, 'reps', 5, 1, 50);
const quiet = boolFlag(args, 'quiet');

/** A DPoP key the load generator signs with on node:crypto (cheaper than jose, so the client does not starve the server). */
class FastDpop {
  readonly privateKey: KeyObject;
  readonly header: string;
  nonce: string | undefined;
  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } })).toString('base64url');
  }
  proof(htm: string, htu: string, ath: string): string {
    const payload = Buffer.from(JSON.stringify({ htm, htu, jti: randomBytes(12).toString('base64url'), iat: Math.floor(Date.now() / 1000), nonce: this.nonce, ath })).toString('base64url');
    const input = `${this.header}.${payload}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }
}

interface Scenario {
  name: string;
  kind: 'session' | 'oauth';
  method: 'GET' | 'POST';
  path: string;
  body?: () => string;
}

const dpop = new FastDpop();
const plc = await startLocalPlc();
const squall = await startSquall({ plcUrl: plc.url });
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
try {
  const publicUrl = await (async () => {
    const res = await fetch(`${squall.url}/.well-known/oauth-authorization-server`);
    return ((await res.json()) as { issuer: string }).issuer;
  })();
  const created = await fetch(`${squall.url}/xrpc/com.atproto.server.createAccount`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handle: 'bench-oauth.test', email: 'bench@example.com', password: 'bench-password-1' }),
  });
  const account = (await created.json()) as { did: string; accessJwt: string };
  // An OAuth grant through the real flow (PAR, the pages, the token endpoint), as an app gets one,
  // bound to the key the load generator signs its proofs with.
  const manual = new ManualClient(publicUrl, await DpopKey.fromKeyObject(dpop.privateKey), 'atproto transition:generic');
  const oauthToken = (await manual.signIn('bench-oauth.test', 'bench-password-1')).access;
  dpop.nonce = manual.nonce;
  const ath = createHash('sha256').update(oauthToken).digest('base64url');
  const record = await call('POST', '/xrpc/com.atproto.repo.createRecord', `Bearer ${account.accessJwt}`, undefined, post(account.did));
  const rkey = String((JSON.parse(record.body) as { uri: string }).uri.split('/').pop());

  const scenarios: Scenario[] = [];
  for (const kind of ['session', 'oauth'] as const) {
    scenarios.push({ name: 'createRecord', kind, method: 'POST', path: '/xrpc/com.atproto.repo.createRecord', body: () => post(account.did) });
    scenarios.push({ name: 'getSession', kind, method: 'GET', path: '/xrpc/com.atproto.server.getSession' });
    scenarios.push({ name: 'getRecord', kind, method: 'GET', path: `/xrpc/com.atproto.repo.getRecord?repo=${account.did}&collection=app.bsky.feed.post&rkey=${rkey}` });
  }

  const cpuPerRequest = new Map<string, number[]>();
  const rates = new Map<string, number[]>();
  for (let round = 0; round < reps; round++) {
    // Interleaved, in a different order each round, so background load is spread over all of them.
    const order = round % 2 === 0 ? scenarios : [...scenarios].reverse();
    for (const scenario of order) {
      const key = `${scenario.name} ${scenario.kind}`;
      const result = await measure(scenario);
      (cpuPerRequest.get(key) ?? cpuPerRequest.set(key, []).get(key)!).push(result.cpuUsPerRequest);
      (rates.get(key) ?? rates.set(key, []).get(key)!).push(result.rate);
      if (!quiet) process.stderr.write(`round ${round + 1}/${reps} ${key}: ${result.cpuUsPerRequest.toFixed(0)} us/req, ${result.rate.toFixed(0)} req/s\n`);
    }
  }
  const rows = ['createRecord', 'getSession', 'getRecord'].map((name) => {
    const s = median(cpuPerRequest.get(`${name} session`) ?? []);
    const o = median(cpuPerRequest.get(`${name} oauth`) ?? []);
    return [name, formatNumber(s), formatNumber(o), formatNumber(o !== undefined && s !== undefined ? o - s : undefined), formatNumber(median(rates.get(`${name} session`) ?? [])), formatNumber(median(rates.get(`${name} oauth`) ?? []))];
  });
  process.stdout.write(
    `Squall, ${connections} connections, ${reps} interleaved rounds of ${durationMs / 1000} s (medians)\n\n` +
      `${markdownTable(['method', 'session: server CPU µs/req', 'OAuth DPoP: server CPU µs/req', 'OAuth − session µs', 'session req/s', 'OAuth req/s'], rows, [1, 2, 3, 4, 5])}\n`,
  );

  async function measure(scenario: Scenario): Promise<{ cpuUsPerRequest: number; rate: number }> {
    const auth = (): Record<string, string> =>
      scenario.kind === 'session'
        ? { authorization: `Bearer ${account.accessJwt}` }
        : { authorization: `DPoP ${oauthToken}`, dpop: dpop.proof(scenario.method, `${publicUrl}${scenario.path.split('?')[0]}`, ath) };
    const run = async (ms: number) => {
      let done = 0;
      const until = performance.now() + ms;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (performance.now() < until) {
            let res = await call(scenario.method, scenario.path, undefined, auth(), scenario.body?.());
            if (res.status === 401 && res.body.includes('use_dpop_nonce')) {
              // The nonce rotated (every minute): retry with the one the answer carried, as clients do.
              done++;
              res = await call(scenario.method, scenario.path, undefined, auth(), scenario.body?.());
            }
            if (res.status !== 200) throw new Error(`${scenario.kind} ${scenario.name}: ${res.status} ${res.body.slice(0, 200)}`);
            done++;
          }
        }),
      );
      return done;
    };
    await run(warmupMs);
    const before = sampleProcess(squall.pid)!;
    const started = performance.now();
    const done = await run(durationMs);
    const elapsed = performance.now() - started;
    const after = sampleProcess(squall.pid)!;
    return { cpuUsPerRequest: (after.cpuUs - before.cpuUs) / done, rate: (done * 1000) / elapsed };
  }
} finally {
  agent.destroy();
  await squall.stop();
  await plc.stop();
}

function post(did: string): string {
  return JSON.stringify({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: 'benchmark post', createdAt: new Date().toISOString() } });
}

function call(method: string, path: string, authorization: string | undefined, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string> = { ...headers };
    if (authorization) all.authorization = authorization;
    if (body !== undefined) all['content-type'] = 'application/json';
    const req = http.request(`${squall.url}${path}`, { method, agent, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const nonce = res.headers['dpop-nonce'];
        if (typeof nonce === 'string') dpop.nonce = nonce;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
    });
    req.once('error', reject);
    req.end(body);
  });
}
