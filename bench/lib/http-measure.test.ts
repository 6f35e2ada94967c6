import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { measureEndpoint } from './http-measure.ts';
import { sampleProcess } from './proc.ts';
import { startSquall } from './squall.ts';
import type { Target } from './target.ts';

let squall: Target;
before(async () => {
  squall = await startSquall();
});
after(async () => {
  await squall?.stop();
});

test('measureEndpoint counts answers from Squall and charges its CPU to them', async () => {
  const m = await measureEndpoint(squall, '/xrpc/_health', { client: 'http', connections: 2, warmupMs: 200, durationMs: 600 });
  assert.ok(m.load.ok > 50, `only ${m.load.ok} answers`);
  assert.equal(m.load.non2xx + m.load.errors, 0);
  assert.ok(m.load.elapsedMs >= 600);
  assert.ok(Math.abs(m.load.requestsPerSecond - (m.load.ok / m.load.elapsedMs) * 1000) < 1e-6);
  // The server did work in the window; per request it is far below a millisecond on any machine.
  assert.ok(m.serverCpuUs > 0 && m.serverCpuUsPerRequest! > 0 && m.serverCpuUsPerRequest! < 5000, `${m.serverCpuUsPerRequest} µs/req`);
  assert.ok(m.load.latencyMs.p50! <= m.load.latencyMs.p99! && m.load.latencyMs.p99! <= m.load.latencyMs.max!);
  assert.ok(m.load.bodyBytes > m.load.ok * 10);
});

test('measureEndpoint reports answers that are not 2xx apart from successes', async () => {
  const m = await measureEndpoint(squall, '/xrpc/com.example.doesNotExist', { client: 'net', connections: 1, warmupMs: 0, durationMs: 300 });
  assert.equal(m.load.ok, 0);
  assert.ok(m.load.non2xx > 0);
  assert.equal(m.load.requestsPerSecond, 0);
});

test('stopping a Squall target ends its process', async () => {
  const other = await startSquall();
  assert.ok(sampleProcess(other.pid));
  await other.stop();
  assert.equal(sampleProcess(other.pid), undefined);
});
