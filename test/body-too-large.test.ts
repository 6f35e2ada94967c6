// A body over the limit gets a 413 the client can read, not a broken connection: the server reads
// and drops the rest of the body within bounds (src/xrpc/body.ts, discardRest), and cuts off a
// client sending far more only after its answer is out.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { DISCARD_LIMIT_BYTES } from '../src/xrpc/body.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const MB = 1024 * 1024;
let plc: TestPlc;
let server: TestServer;
let auth: string;
let did: string;

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  const agent = new AtpAgent({ service: server.url });
  await agent.createAccount({ handle: 'bulky.test', email: 'bulky@example.com', password: 'bulky-password-1' });
  auth = `Bearer ${agent.session!.accessJwt}`;
  did = agent.session!.did;
});
after(async () => {
  await server.close();
  await plc.close();
});

/** A body of `total` zero bytes, streamed (chunked, no Content-Length). */
function streamed(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const size = Math.min(64 * 1024, total - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size));
    },
  });
}

async function post(nsid: string, contentType: string, body: string | Uint8Array | ReadableStream<Uint8Array>) {
  const res = await fetch(`${server.url}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': contentType },
    body,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as { error?: string; message?: string } };
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** HTTP/1.1 responses with a Content-Length, as many as `data` holds whole. */
function parseResponses(data: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end === -1) return responses;
    const [statusLine, ...lines] = data.subarray(at, end).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    if (data.length < end + 4 + length) return responses;
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body: data.subarray(end + 4, end + 4 + length).toString('utf8') });
    at = end + 4 + length;
  }
}

/**
 * A client on a bare socket: sends a POST whose body is `total` zero bytes, whatever answer comes
 * meanwhile, then `next` (another request) if the connection is still open; ends when `expect`
 * responses have arrived or the server closed the connection.
 */
function rawExchange(opts: { nsid: string; contentType: string; total: number; close?: boolean; next?: string; expect: number }) {
  const { port } = new URL(server.url);
  return new Promise<{ responses: RawResponse[]; closedByServer: boolean; sent: number; writeError?: string }>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let received = Buffer.alloc(0);
    let sent = 0;
    let writeError: string | undefined;
    const finish = (closedByServer: boolean) => {
      socket.destroy();
      resolve({ responses: parseResponses(received), closedByServer, sent, writeError });
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (parseResponses(received).length >= opts.expect) finish(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (writeError = err.code));
    socket.on('close', () => finish(true));
    socket.write(
      `POST /xrpc/${opts.nsid} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth}\r\nContent-Type: ${opts.contentType}\r\n` +
        `Content-Length: ${opts.total}\r\n${opts.close ? 'Connection: close\r\n' : ''}\r\n`,
    );
    const chunk = Buffer.alloc(256 * 1024);
    const pump = () => {
      while (sent < opts.total && !socket.destroyed) {
        const size = Math.min(chunk.length, opts.total - sent);
        sent += size;
        if (!socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))) return void socket.once('drain', pump);
      }
      if (sent >= opts.total && opts.next && !socket.destroyed) socket.write(opts.next);
    };
    pump();
  });
}

const json20mb = () => JSON.stringify({ repo: did, collection: 'app.bsky.feed.post', record: { text: 'x'.repeat(20 * MB) } });
const healthRequest = 'GET /xrpc/_health HTTP/1.1\r\nHost: localhost\r\n\r\n';

describe('bodies over the limit', () => {
  it('answer fetch with 413 PayloadTooLarge for a 20 MB JSON body, sent whole or streamed', async () => {
    for (const body of [json20mb(), streamed(20 * MB)]) {
      const res = await post('com.atproto.repo.createRecord', 'application/json', body);
      assert.equal(res.status, 413);
      assert.equal(res.body.error, 'PayloadTooLarge');
    }
  });

  it('answer fetch with 413 BlobTooLarge for a 200 MB blob, announced or streamed, and the server stays healthy', async () => {
    for (const body of [new Uint8Array(200 * MB), streamed(200 * MB)]) {
      const res = await post('com.atproto.repo.uploadBlob', 'image/png', body);
      assert.equal(res.status, 413);
      assert.equal(res.body.error, 'BlobTooLarge');
    }
    assert.equal((await fetch(`${server.url}/xrpc/_health`)).status, 200);
  });

  it('let a raw client that keeps sending read the 413, and its connection then serves the next request', async () => {
    const result = await rawExchange({ nsid: 'com.atproto.repo.createRecord', contentType: 'application/json', total: 20 * MB, next: healthRequest, expect: 2 });
    assert.equal(result.writeError, undefined);
    assert.deepEqual(result.responses.map((r) => r.status), [413, 200]);
    assert.equal((JSON.parse(result.responses[0].body) as { error: string }).error, 'PayloadTooLarge');
  });

  it('give a raw client that asked to close the whole 413 before closing, with no reset', async () => {
    const result = await rawExchange({ nsid: 'com.atproto.repo.createRecord', contentType: 'application/json', total: 20 * MB, close: true, expect: 2 });
    assert.equal(result.writeError, undefined);
    assert.equal(result.closedByServer, true);
    assert.deepEqual(result.responses.map((r) => r.status), [413]);
    assert.equal(result.responses[0].headers.connection, 'close');
  });

  it('cut off a client sending far more than the bound, once it has the 413', async () => {
    const total = 1024 * MB;
    const result = await rawExchange({ nsid: 'com.atproto.repo.uploadBlob', contentType: 'image/png', total, expect: 2 });
    assert.equal(result.closedByServer, true);
    assert.deepEqual(result.responses.map((r) => r.status), [413]);
    assert.ok(result.sent < total, `the server read all ${result.sent} bytes`);
    assert.ok(result.sent > DISCARD_LIMIT_BYTES, `cut off after ${result.sent} bytes, before the bound`);
    assert.equal((await fetch(`${server.url}/xrpc/_health`)).status, 200);
  });
});
