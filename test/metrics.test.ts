import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import WebSocket from 'ws';
import { parsePrometheusText, select, valueOf, type Family } from './helpers/prometheus.ts';
import { json, startTestService } from './helpers/services.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { basicAuth, freePort, startTestServer, type TestServer } from './helpers/server.ts';

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

async function scrape(url = `${server.url}/metrics`, headers: Record<string, string> = { authorization: basicAuth(server.adminPassword) }): Promise<Map<string, Family>> {
  const res = await fetch(url, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

/** Requests counted in one (nsid, status, auth) series. */
const requestCount = (families: Map<string, Family>, nsid: string, status: string, auth: string) =>
  valueOf(families, 'squall_xrpc_request_duration_seconds_count', { nsid, status, auth });

describe('GET /metrics', () => {
  it('refuses callers without the admin credential, with an XRPC JSON error', async () => {
    const anonymous = await fetch(`${server.url}/metrics`);
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'AuthenticationRequired');
    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: basicAuth('not-the-password') } });
    assert.equal(wrong.status, 401);
  });

  it('answers in the Prometheus text format, with process metrics', async () => {
    const families = await scrape();
    for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'squall_database_bytes', 'squall_database_wal_bytes']) {
      assert.ok(families.has(name), `${name} is exposed`);
    }
    assert.ok(valueOf(families, 'process_resident_memory_bytes') > 0);
    assert.ok(valueOf(families, 'squall_database_bytes') > 0);
  });

  it('counts requests by NSID, status and auth kind, with a latency histogram', async () => {
    const before = await scrape();
    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'metrics.test', email: 'metrics@example.com', password: 'metrics-password-1' });
    for (let i = 0; i < 3; i++) await agent.post({ text: `post ${i}`, createdAt: new Date().toISOString() });
    await fetch(`${server.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: 'Bearer not-a-token' } });
    await fetch(`${server.url}/xrpc/com.atproto.server.describeServer`);
    const after = await scrape();

    const delta = (nsid: string, status: string, auth: string) => requestCount(after, nsid, status, auth) - requestCount(before, nsid, status, auth);
    assert.equal(delta('com.atproto.repo.createRecord', '200', 'access'), 3);
    assert.equal(delta('com.atproto.server.createAccount', '200', 'none'), 1);
    assert.equal(delta('com.atproto.server.getSession', '401', 'rejected'), 1);
    assert.equal(delta('com.atproto.server.describeServer', '200', 'none'), 1);

    const labels = { nsid: 'com.atproto.repo.createRecord', status: '200', auth: 'access' };
    assert.equal(select(after, 'squall_xrpc_request_duration_seconds_bucket', labels).length, 16);
    assert.equal(valueOf(after, 'squall_xrpc_request_duration_seconds_bucket', { ...labels, le: '+Inf' }), requestCount(after, labels.nsid, '200', 'access'));
    assert.ok(valueOf(after, 'squall_xrpc_request_duration_seconds_sum', labels) > valueOf(before, 'squall_xrpc_request_duration_seconds_sum', labels));
  });

  it('puts every unknown NSID in one series, so callers cannot create series at will', async () => {
    for (let i = 0; i < 5; i++) await fetch(`${server.url}/xrpc/com.example.made.up${i}`);
    const families = await scrape();
    const series = select(families, 'squall_xrpc_request_duration_seconds_count');
    assert.ok(!series.some((m) => m.labels.nsid.startsWith('com.example.')));
    assert.ok(requestCount(families, '_unknown', '404', 'none') >= 5);
    for (let i = 0; i < 3; i++) await fetch(`${server.url}/no/such/path/${i}`);
    const routes = await scrape();
    assert.ok(!select(routes, 'squall_http_requests_total').some((m) => m.labels.route.startsWith('/no/')));
    assert.ok(valueOf(routes, 'squall_http_requests_total', { route: 'other', status: '404' }) >= 3);
  });

  it('reports the write path, storage counts and the firehose', async () => {
    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'writer.test', email: 'writer@example.com', password: 'writer-password-1' });
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/xrpc/com.atproto.sync.subscribeRepos`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const before = await scrape();
    const got = new Promise<void>((resolve) => ws.once('message', () => resolve()));
    await Promise.all([0, 1, 2, 3].map((i) => agent.post({ text: `concurrent ${i}`, createdAt: new Date().toISOString() })));
    await got;
    const after = await scrape();
    ws.close();

    const moved = (name: string) => valueOf(after, name) - valueOf(before, name);
    assert.ok(moved('squall_commit_group_writes_count') >= 1, 'commit groups are counted');
    assert.ok(moved('squall_commit_group_writes_sum') >= 4, 'writes per group add up to the writes');
    assert.ok(moved('squall_commit_queue_wait_seconds_count') >= 4, 'every write has its queue wait');
    assert.ok(moved('squall_wal_fsync_seconds_count') >= 1, 'WAL fsyncs are timed');
    assert.ok(moved('squall_firehose_events_total') >= 4);
    assert.ok(moved('squall_firehose_frames_sent_total') >= 1);
    assert.equal(valueOf(after, 'squall_firehose_subscribers'), 1);
    assert.ok(valueOf(after, 'squall_firehose_oldest_subscriber_lag_events') >= 0);
    assert.ok(valueOf(after, 'squall_firehose_head_seq') >= 4);
    assert.equal(valueOf(after, 'squall_accounts'), valueOf(after, 'squall_repos'));
    assert.ok(valueOf(after, 'squall_accounts') >= 2);
    assert.ok(valueOf(after, 'squall_records') >= 7);
  });
});

describe('the sample Grafana dashboard (docs/grafana-squall.json)', () => {
  it('only charts metrics the server exposes', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../docs/grafana-squall.json', import.meta.url), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const families = await scrape();
    const names = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\b(squall|nodejs|process)_[a-z0-9_]+/g) ?? [])));
    assert.ok(names.size >= 20);
    for (const name of names) {
      const family = name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(families.has(family) || families.has(name), `${name} is exposed`);
    }
  });
});

describe('upstream (proxy) metrics', () => {
  it('time each forwarded request by service and outcome, and count the request under _proxied', async () => {
    const appView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView' });
    const proxying = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_BSKY_APP_VIEW_URL: appView.url, PDS_BSKY_APP_VIEW_DID: appView.did });
    try {
      appView.on('app.bsky.actor.getProfile', (_call, res) => json(res, 200, { did: 'did:plc:x', handle: 'x.test' }));
      appView.on('app.bsky.feed.getTimeline', (_call, res) => json(res, 502, { error: 'UpstreamFailure', message: 'down' }));
      const agent = new AtpAgent({ service: proxying.url });
      await agent.createAccount({ handle: 'proxied.test', email: 'proxied@example.com', password: 'proxied-password' });
      const headers = { authorization: `Bearer ${agent.session!.accessJwt}` };
      assert.equal((await fetch(`${proxying.url}/xrpc/app.bsky.actor.getProfile?actor=x.test`, { headers })).status, 200);
      await fetch(`${proxying.url}/xrpc/app.bsky.feed.getTimeline`, { headers });
      const families = await scrape(`${proxying.url}/metrics`, { authorization: basicAuth(proxying.adminPassword) });
      assert.equal(valueOf(families, 'squall_upstream_request_duration_seconds_count', { service: appView.did, outcome: '2xx' }), 1);
      assert.equal(valueOf(families, 'squall_upstream_request_duration_seconds_count', { service: appView.did, outcome: '5xx' }), 1);
      assert.equal(valueOf(families, 'squall_xrpc_request_duration_seconds_count', { nsid: '_proxied', status: '200', auth: 'access' }), 1);
    } finally {
      await proxying.close();
      await appView.close();
    }
  });
});

describe('a separate metrics listener (PDS_METRICS_LISTEN)', () => {
  it('serves /metrics there without credentials and not on the main port', async () => {
    const port = await freePort();
    const separate = await startTestServer({ PDS_METRICS_LISTEN: `127.0.0.1:${port}` });
    try {
      assert.equal(separate.server.metricsUrl, `http://127.0.0.1:${port}/metrics`);
      const families = await scrape(separate.server.metricsUrl, {});
      assert.ok(families.has('squall_xrpc_request_duration_seconds'));
      const onMain = await fetch(`${separate.url}/metrics`, { headers: { authorization: basicAuth(separate.adminPassword) } });
      assert.equal(onMain.status, 404);
      const elsewhere = await fetch(`http://127.0.0.1:${port}/xrpc/_health`);
      assert.equal(elsewhere.status, 404);
    } finally {
      await separate.close();
    }
  });

  it('warns in the log when that address is reachable beyond the machine, and not for loopback', async () => {
    const logged = async (host: string) => {
      let log = '';
      const stream = new Writable({ write: (chunk, _enc, done) => ((log += String(chunk)), done()) });
      const server = await startTestServer({ PDS_METRICS_LISTEN: `${host}:${await freePort()}` }, { logStream: stream });
      await server.close();
      return log;
    };
    assert.match(await logged('0.0.0.0'), /the metrics listener asks no credentials and is reachable beyond this machine/);
    assert.doesNotMatch(await logged('127.0.0.1'), /reachable beyond this machine/);
  });

  it('is not served at all with PDS_METRICS_ENABLED=false', async () => {
    const off = await startTestServer({ PDS_METRICS_ENABLED: 'false' });
    try {
      const res = await fetch(`${off.url}/metrics`, { headers: { authorization: basicAuth(off.adminPassword) } });
      assert.equal(res.status, 404);
    } finally {
      await off.close();
    }
  });
});
