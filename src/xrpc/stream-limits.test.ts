import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { StreamLimits, type StreamLimitOptions, type StreamOutcome } from './stream-limits.ts';

const CHUNK = new Uint8Array(64 * 1024).fill(7);

/** An endless source that says when it was closed (as an export's snapshot would be). */
function endless(closed: { value: boolean }): AsyncGenerator<Uint8Array> {
  return (async function* () {
    try {
      for (;;) yield CHUNK;
    } finally {
      closed.value = true;
    }
  })();
}

const servers: Server[] = [];
after(() => servers.forEach((server) => server.close()));

/** A server that streams an endless body under `limits`; each stream's outcome and source are reported. */
async function streamingServer(limits: StreamLimits) {
  const streams: Array<{ outcome: Promise<StreamOutcome>; closed: { value: boolean } }> = [];
  const server = createServer((_req, res) => {
    const closed = { value: false };
    res.setHeader('content-type', 'application/octet-stream');
    streams.push({ outcome: limits.pipe(endless(closed), res), closed });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, streams };
}

/** A client that asks, takes the first bytes, then stops reading without closing its socket. */
function stalledClient(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.once('data', () => {
      socket.pause();
      resolve(socket);
    });
    socket.on('error', () => {});
  });
}

const limits = (options: Partial<StreamLimitOptions>) =>
  new StreamLimits({ idleTimeoutMs: 60_000, maxDurationMs: 60 * 60_000, maxConcurrent: 10, maxConcurrentPerClient: 10, ...options });

describe('StreamLimits.pipe against a client that stops reading', () => {
  test('cuts the stream after the no-progress timeout and closes its source', async () => {
    const { port, streams } = await streamingServer(limits({ idleTimeoutMs: 50 }));
    const client = await stalledClient(port);
    assert.equal(await streams[0].outcome, 'idle');
    assert.equal(streams[0].closed.value, true);
    client.destroy();
  });

  test('cuts a stream that runs past its maximum duration, however patient the idle timeout', async () => {
    const { port, streams } = await streamingServer(limits({ maxDurationMs: 50 }));
    const client = await stalledClient(port);
    assert.equal(await streams[0].outcome, 'too-long');
    assert.equal(streams[0].closed.value, true);
    client.destroy();
  });
});

describe('StreamLimits slots', () => {
  test('caps streams per client and in all, and gives a slot back once', () => {
    const streams = limits({ maxConcurrent: 3, maxConcurrentPerClient: 2 });
    const a1 = streams.acquire('a');
    const a2 = streams.acquire('a');
    assert.ok(a1.ok && a2.ok);
    assert.deepEqual(streams.acquire('a'), { ok: false, scope: 'client' });
    const b1 = streams.acquire('b');
    assert.ok(b1.ok);
    assert.deepEqual(streams.acquire('c'), { ok: false, scope: 'server' });
    a1.release();
    a1.release();
    assert.equal(streams.active, 2, 'a second release is ignored');
    assert.ok(streams.acquire('c').ok);
  });

  test('idle() resolves when the last stream is released', async () => {
    const streams = limits({});
    const slot = streams.acquire('a');
    assert.ok(slot.ok);
    let idle = false;
    const waiting = streams.idle().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(idle, false);
    slot.release();
    await waiting;
    assert.equal(streams.active, 0);
  });
});
