import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { signUp, startAccountsEnv, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';
import { freePort } from './helpers/server.ts';
import { json, startTestService, type TestService } from './helpers/services.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';

let plc: TestPlc;
let appView: TestService;
/** A service known only through its DID document. */
let labeler: TestService;
let env: AccountsEnv;
let alice: SignedUp;
let deadPort: number;

const MAX_RESPONSE = 256 * 1024;

before(async () => {
  plc = await startTestPlc();
  appView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView', streamBodies: true });
  labeler = await startTestService(plc.url, { serviceId: 'atproto_labeler', type: 'AtprotoLabeler' });
  deadPort = await freePort();
  env = await startAccountsEnv({
    PDS_DID_PLC_URL: plc.url,
    PDS_BSKY_APP_VIEW_URL: appView.url,
    PDS_BSKY_APP_VIEW_DID: appView.did,
    // A moderation service that is down: nothing listens there.
    PDS_MOD_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
    PDS_MOD_SERVICE_DID: 'did:web:mod.internal.test',
    PDS_PROXY_HEADERS_TIMEOUT: '1000',
    PDS_PROXY_MAX_RESPONSE_SIZE: String(MAX_RESPONSE),
    // The labeler is known only by its DID document, on loopback: the development-only switch lets it be reached.
    PDS_DISABLE_SSRF_PROTECTION: 'true',
  });
  alice = await signUp(env, 'routing-alice');
});
after(async () => {
  await env.close();
  await appView.close();
  await labeler.close();
  await plc.close();
});

const auth = () => ({ authorization: `Bearer ${alice.agent.session!.accessJwt}` });

async function call(path: string, headers: Record<string, string> = {}, init: RequestInit = {}) {
  const res = await fetch(`${env.url}/xrpc/${path}`, { ...init, headers: { ...auth(), ...headers } });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: left empty, the test says what it expected
  }
  return { status: res.status, headers: res.headers, body, text };
}

describe('routing by the atproto-proxy header', () => {
  it('forwards to the endpoint the DID document names under the service id, addressed to the bare DID', async () => {
    const res = await call('com.atproto.label.queryLabels?uriPatterns=at://*', { 'atproto-proxy': labeler.ref });
    assert.equal(res.status, 200);
    assert.equal(res.body.search, '?uriPatterns=at://*');
    const received = labeler.calls('com.atproto.label.queryLabels').at(-1)!;
    assert.equal(received.jwtError, undefined);
    assert.equal(received.jwt?.aud, labeler.did);
    assert.equal(received.jwt?.iss, alice.did);
  });

  it('answers a malformed header, an unresolvable DID or a missing service with 400 saying which, sending nothing', async () => {
    const before = labeler.received.length + appView.received.length;
    const cases: Array<[string, RegExp]> = [
      [labeler.did, /no service id/],
      [`${labeler.did}#`, /no service id/],
      ['#atproto_labeler', /no DID/],
      [`${labeler.ref}#again`, /malformed/],
      [`${labeler.did} #atproto_labeler`, /malformed/],
      ['not-a-did#atproto_labeler', /invalid DID/],
      [`${labeler.did}#bad service`, /malformed/],
      ['did:plc:aaaaaaaaaaaaaaaaaaaaaaaa#atproto_labeler', /Could not resolve did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/],
      ['did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme#atproto_labeler', /Could not resolve did:key/],
      [`${labeler.did}#bsky_chat`, /has no #bsky_chat service/],
    ];
    for (const [header, message] of cases) {
      const res = await call('com.atproto.label.queryLabels', { 'atproto-proxy': header });
      assert.equal(res.status, 400, header);
      assert.equal(res.body.error, 'InvalidRequest', header);
      assert.match(String(res.body.message), message, header);
    }
    assert.equal(labeler.received.length + appView.received.length, before);
  });

  it('uses the configured URL when the header names the configured AppView', async () => {
    appView.on('app.bsky.feed.getTimeline', (_call, res) => json(res, 200, { feed: [] }));
    const res = await call('app.bsky.feed.getTimeline', { 'atproto-proxy': appView.ref });
    assert.equal(res.status, 200);
    assert.equal(appView.calls('app.bsky.feed.getTimeline').at(-1)!.jwt?.aud, appView.did);
  });
});

describe('headers across the proxy', () => {
  it('passes the headers an upstream needs and no credentials of the client', async () => {
    const res = await fetch(`${env.url}/xrpc/com.example.headers.check`, {
      method: 'POST',
      headers: {
        ...auth(),
        'atproto-proxy': labeler.ref,
        'accept-language': 'fr, en;q=0.5',
        'atproto-accept-labelers': 'did:plc:labeler1;redact',
        'x-bsky-topics': 'art',
        cookie: 'session=secret',
        dpop: 'proof',
        'x-custom': 'nope',
        'content-type': 'application/json',
      },
      body: '{"a":1}',
    });
    assert.equal(res.status, 200);
    const headers = labeler.calls('com.example.headers.check').at(-1)!.headers;
    assert.equal(headers['accept-language'], 'fr, en;q=0.5');
    assert.equal(headers['atproto-accept-labelers'], 'did:plc:labeler1;redact');
    assert.equal(headers['x-bsky-topics'], 'art');
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['content-length'], '7');
    assert.notEqual(headers.authorization, auth().authorization);
    for (const name of ['cookie', 'dpop', 'x-custom', 'atproto-proxy']) assert.equal(headers[name], undefined, name);
  });

  it('returns the headers clients rely on and no others', async () => {
    labeler.on('com.example.headers.back', (_call, res) =>
      json(res, 200, { ok: true }, {
        'content-language': 'fr',
        'atproto-content-labelers': 'did:plc:labeler1',
        'atproto-repo-rev': '3kabc',
        'ratelimit-limit': '3000',
        'ratelimit-remaining': '2999',
        'ratelimit-reset': '1700000000',
        'ratelimit-policy': '3000;w=300',
        'set-cookie': 'tracking=1',
        'x-powered-by': 'Express',
      }),
    );
    const res = await call('com.example.headers.back', { 'atproto-proxy': labeler.ref });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: true });
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    for (const [name, value] of [
      ['content-language', 'fr'],
      ['atproto-content-labelers', 'did:plc:labeler1'],
      ['atproto-repo-rev', '3kabc'],
      ['ratelimit-limit', '3000'],
      ['ratelimit-remaining', '2999'],
      ['ratelimit-reset', '1700000000'],
      ['ratelimit-policy', '3000;w=300'],
    ]) {
      assert.equal(res.headers.get(name), value, name);
    }
    assert.equal(res.headers.get('set-cookie'), null);
    assert.equal(res.headers.get('x-powered-by'), null);
  });
});

describe('upstream errors', () => {
  it('passes an XRPC error with its status, name, message and retry-after', async () => {
    labeler.on('com.example.errors.notFound', (_call, res) => json(res, 404, { error: 'ProfileNotFound', message: 'Profile not found' }));
    labeler.on('com.example.errors.limited', (_call, res) =>
      json(res, 429, { error: 'RateLimitExceeded', message: 'slow down' }, { 'retry-after': '30', 'ratelimit-remaining': '0' }),
    );
    const notFound = await call('com.example.errors.notFound', { 'atproto-proxy': labeler.ref });
    assert.deepEqual([notFound.status, notFound.body], [404, { error: 'ProfileNotFound', message: 'Profile not found' }]);
    const limited = await call('com.example.errors.limited', { 'atproto-proxy': labeler.ref });
    assert.deepEqual([limited.status, limited.body.error, limited.body.message], [429, 'RateLimitExceeded', 'slow down']);
    assert.equal(limited.headers.get('retry-after'), '30');
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
  });

  it('answers a 4xx that is not XRPC JSON as XRPC JSON with the same status', async () => {
    labeler.on('com.example.errors.html', (_call, res) => {
      res.writeHead(403, { 'content-type': 'text/html' });
      res.end('<h1>Forbidden</h1>');
    });
    const res = await call('com.example.errors.html', { 'atproto-proxy': labeler.ref });
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'Forbidden');
    assert.match(res.headers.get('content-type')!, /^application\/json/);
  });

  it('turns an upstream 5xx into 502, keeping the error name of an XRPC body', async () => {
    labeler.on('com.example.errors.xrpc500', (_call, res) => json(res, 500, { error: 'InternalServerError', message: 'db at 10.1.2.3:5432 is down' }));
    labeler.on('com.example.errors.plain503', (_call, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('unavailable');
    });
    const xrpc = await call('com.example.errors.xrpc500', { 'atproto-proxy': labeler.ref });
    assert.equal(xrpc.status, 502);
    assert.equal(xrpc.body.error, 'InternalServerError');
    assert.doesNotMatch(String(xrpc.body.message), /10\.1\.2\.3/);
    const plain = await call('com.example.errors.plain503', { 'atproto-proxy': labeler.ref });
    assert.equal(plain.status, 502);
    assert.equal(plain.body.error, 'UpstreamFailure');
  });

  it('answers 502 UpstreamFailure when the upstream is down, naming no address', async () => {
    const res = await call('tools.ozone.moderation.queryEvents');
    assert.equal(res.status, 502);
    assert.equal(res.body.error, 'UpstreamFailure');
    assert.doesNotMatch(res.text, /127\.0\.0\.1|ECONNREFUSED|:\d{4,5}/);
  });

  it('answers 502 UpstreamFailure when the upstream does not answer in time', async () => {
    labeler.on('com.example.errors.silent', () => {
      // never answers
    });
    const res = await call('com.example.errors.silent', { 'atproto-proxy': labeler.ref });
    assert.equal(res.status, 502);
    assert.equal(res.body.error, 'UpstreamFailure');
    assert.match(String(res.body.message), /timed out/);
  });
});

describe('streamed bodies and limits', () => {
  it('streams a large request body up while it is still being sent, byte for byte', async () => {
    const firstPart = randomBytes(64 * 1024);
    const rest = randomBytes(5 * 1024 * 1024);
    let firstArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    appView.on('app.bsky.video.uploadVideo', async (_call, res, req) => {
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of req) {
        if (size === 0) firstArrived();
        size += (chunk as Buffer).length;
        hash.update(chunk as Buffer);
      }
      json(res, 200, { size, sha256: hash.digest('hex') });
    });
    const response = await rawRequest('POST', 'app.bsky.video.uploadVideo', { 'content-type': 'video/mp4' }, async (req) => {
      req.write(firstPart);
      // The rest is sent only once the upstream has bytes: a proxy that buffered the whole body would never get here.
      await arrived;
      req.end(rest);
    });
    const body = JSON.parse((await readAll(response)).toString('utf8')) as { size: number; sha256: string };
    assert.equal(response.statusCode, 200);
    assert.equal(body.size, firstPart.length + rest.length);
    assert.equal(body.sha256, createHash('sha256').update(firstPart).update(rest).digest('hex'));
  });

  it('streams a chunked answer down as it comes', async () => {
    let clientHasFirst!: () => void;
    const clientGotFirst = new Promise<void>((resolve) => (clientHasFirst = resolve));
    appView.on('app.bsky.unspecced.streamed', async (_call, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1000, 1));
      // The end comes only once the client has the start: a proxy that buffered would never get here.
      await clientGotFirst;
      res.end(Buffer.alloc(1000, 2));
    });
    const response = await rawRequest('GET', 'app.bsky.unspecced.streamed', {}, async (req) => void req.end());
    const chunks: Buffer[] = [];
    for await (const chunk of response) {
      if (chunks.length === 0) clientHasFirst();
      chunks.push(chunk as Buffer);
    }
    const all = Buffer.concat(chunks);
    assert.equal(all.length, 2000);
    assert.equal(all[0], 1);
    assert.equal(all[1999], 2);
  });

  it('refuses a JSON body over the limit with 413 before sending anything', async () => {
    const before = labeler.received.length;
    const big = JSON.stringify({ text: 'x'.repeat(1024 * 1024 + 10) });
    const res = await call('com.example.limits.big', { 'atproto-proxy': labeler.ref, 'content-type': 'application/json' }, { method: 'POST', body: big });
    assert.equal(res.status, 413);
    assert.equal(res.body.error, 'PayloadTooLarge');
    assert.equal(labeler.received.length, before);
  });

  it('refuses an answer declared larger than the cap with 502, and cuts off a chunked one at the cap', async () => {
    labeler.on('com.example.limits.declared', (_call, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(MAX_RESPONSE + 1) });
      res.end(Buffer.alloc(MAX_RESPONSE + 1));
    });
    labeler.on('com.example.limits.chunked', (_call, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 40; i++) res.write(Buffer.alloc(16 * 1024));
      res.end();
    });
    const declared = await call('com.example.limits.declared', { 'atproto-proxy': labeler.ref });
    assert.equal(declared.status, 502);
    assert.equal(declared.body.error, 'UpstreamFailure');
    const response = await rawRequest('GET', 'com.example.limits.chunked', { 'atproto-proxy': labeler.ref }, async (req) => void req.end());
    assert.equal(response.statusCode, 200);
    let received = 0;
    await assert.rejects(async () => {
      for await (const chunk of response) received += (chunk as Buffer).length;
    });
    assert.ok(received <= MAX_RESPONSE, `received ${received} bytes`);
  });
});

function rawRequest(method: string, nsid: string, headers: Record<string, string>, send: (req: ReturnType<typeof request>) => Promise<void>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${env.url}/xrpc/${nsid}`, { method, headers: { ...auth(), ...headers } });
    req.once('response', resolve);
    req.once('error', reject);
    send(req).catch(reject);
  });
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
