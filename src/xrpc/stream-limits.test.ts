import assert from 'node:assert/strict';
import { createServer, get, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { Readable } from 'node:stream';
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

/**
 * A body of `count` 64 KB chunks, chunk i filled with byte i % 251 + 1, whose buffers come back
 * through `recycle` and are scribbled over at once, then refilled: if a buffer were handed back
 * before the socket had its bytes, the client would read the scribble or a later chunk's bytes.
 */
class ScribblingBody extends Readable {
  readonly free: Buffer[] = [];
  allocated = 0;
  recycled = 0;
  #next = 0;
  readonly #count: number;
  readonly #failAt: number | undefined;

  /** `failAt`: the chunk at which reading fails (a file cut short under the download). */
  constructor(count: number, failAt?: number) {
    super({ highWaterMark: CHUNK.length });
    this.#count = count;
    this.#failAt = failAt;
  }

  override _read(): void {
    if (this.#next === this.#failAt) {
      setImmediate(() => this.destroy(new Error('read failed')));
      return;
    }
    if (this.#next === this.#count) {
      this.push(null);
      return;
    }
    const buffer = this.free.pop() ?? (this.allocated++, Buffer.alloc(CHUNK.length));
    buffer.fill((this.#next++ % 251) + 1);
    setImmediate(() => this.push(buffer));
  }

  recycle(chunk: Uint8Array): void {
    this.recycled++;
    chunk.fill(0);
    this.free.push(chunk as Buffer);
  }
}

/** Fetches `/` from `port`, reading slowly (a pause every few chunks), and returns the bytes; gives up after 10 s without a byte. */
function slowRead(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = get({ port, host: '127.0.0.1', path: '/', timeout: 10_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        parts.push(c);
        if (parts.length % 4 === 0) {
          res.pause();
          setTimeout(() => res.resume(), 2);
        }
      });
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out: the answer was left open')));
    req.on('error', reject);
  });
}

describe('StreamLimits.pipe with a body that recycles its buffers', () => {
  test('hands a buffer back only once its bytes are written: the client reads every chunk intact', async () => {
    const count = 200; // 12.5 MB, far past the socket buffers, so writes wait on the client
    const bodies: ScribblingBody[] = [];
    const outcomes: Promise<StreamOutcome>[] = [];
    const streams = limits({});
    const server = createServer((_req, res) => {
      const body = new ScribblingBody(count);
      bodies.push(body);
      res.setHeader('content-length', String(count * CHUNK.length));
      outcomes.push(streams.pipe(body, res));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const got = await Promise.all([slowRead(port), slowRead(port), slowRead(port)]);
    assert.deepEqual(await Promise.all(outcomes), ['complete', 'complete', 'complete']);
    for (const [i, bytes] of got.entries()) {
      assert.equal(bytes.length, count * CHUNK.length);
      for (let c = 0; c < count; c++) {
        const chunk = bytes.subarray(c * CHUNK.length, (c + 1) * CHUNK.length);
        const want = (c % 251) + 1;
        assert.ok(chunk.every((b) => b === want), `reader ${i}, chunk ${c}: bytes of another chunk or of the scribble`);
      }
      assert.equal(bodies[i].recycled, count, 'every chunk came back once written');
      assert.ok(bodies[i].allocated <= 3, `buffers were reused (${bodies[i].allocated} allocated for ${count} chunks)`);
    }
  });

  test('a body that fails midway fails the pipe and cuts the answer off, never leaving it open and short', async () => {
    let outcome: Promise<StreamOutcome> | undefined;
    const streams = limits({});
    const server = createServer((_req, res) => {
      res.setHeader('content-length', String(10 * CHUNK.length));
      outcome = streams.pipe(new ScribblingBody(10, 3), res);
      outcome.catch(() => {});
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await assert.rejects(slowRead(port), /aborted|socket hang up|ECONNRESET/);
    await assert.rejects(outcome!, /read failed/);
  });

  test('cuts a client that stops reading, closes the body, and keeps the chunk it was writing', async () => {
    let body: ScribblingBody | undefined;
    let outcome: Promise<StreamOutcome> | undefined;
    const streams = limits({ idleTimeoutMs: 50 });
    const server = createServer((_req, res) => {
      body = new ScribblingBody(100_000);
      res.setHeader('content-type', 'application/octet-stream');
      outcome = streams.pipe(body, res);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = await stalledClient((server.address() as AddressInfo).port);
    assert.equal(await outcome, 'idle');
    assert.ok(body?.destroyed, 'the body was closed');
    assert.ok(body.recycled < 100_000);
    client.destroy();
  });
});
