import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { IdResolver } from '@atproto/identity';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { Firehose, MemoryRunner, type Event } from '@atproto/sync';
import { WebSocket } from 'ws';
import { decodeCborFirst, decodeCbor } from '../src/ipld/cbor.ts';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { newAccountAgent, until } from './helpers/agents.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let idResolver: IdResolver;

before(async () => {
  plc = await startTestPlc();
  // All subscribers here come from 127.0.0.1, 200 of them at once in one test: caps above that.
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_FIREHOSE_MAX_SUBSCRIBERS: '500', PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_CLIENT: '500' });
  idResolver = testIdResolver(plc.url);
});
after(async () => {
  await server.close();
  await plc.close();
});

const newAgent = (name: string): Promise<AtpAgent> => newAccountAgent(server.url, name);

function followFirehose(cursor?: number) {
  const events: Event[] = [];
  const errors: Error[] = [];
  const firehose = new Firehose({
    idResolver,
    service: server.url.replace('http', 'ws'),
    runner: new MemoryRunner({ startCursor: cursor }),
    handleEvent: (evt) => void events.push(evt),
    onError: (err) => void errors.push(err),
  });
  firehose.start();
  return { firehose, events, errors };
}

/** Raw frames of subscribeRepos, decoded as header + body. */
function rawSubscribe(query: string) {
  const frames: Array<{ header: Record<string, unknown>; body: Record<string, unknown> }> = [];
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/xrpc/com.atproto.sync.subscribeRepos${query}`);
  ws.on('message', (data: Buffer) => {
    const [header, rest] = decodeCborFirst(new Uint8Array(data));
    frames.push({ header: header as Record<string, unknown>, body: decodeCbor(rest) as Record<string, unknown> });
  });
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  return { ws, frames, closed };
}

describe('the firehose', () => {
  it('lets a verifying relay client follow concurrent writes across many accounts', async () => {
    const follower = followFirehose();
    await new Promise((r) => setTimeout(r, 300));
    const agents = await Promise.all(['fh1', 'fh2', 'fh3', 'fh4'].map(newAgent));
    const uris: string[][] = agents.map(() => []);
    await Promise.all(
      agents.map(async (agent, i) => {
        for (let n = 0; n < 15; n++) {
          const res = await agent.post({ text: `post ${n} of ${i}`, createdAt: new Date().toISOString() });
          uris[i].push(res.uri);
        }
        // an update and a delete too
        const first = uris[i][0].split('/').pop()!;
        await agent.com.atproto.repo.putRecord({ repo: agent.session!.did, collection: 'app.bsky.feed.post', rkey: first, record: { $type: 'app.bsky.feed.post', text: 'edited', createdAt: new Date().toISOString() } });
        await agent.com.atproto.repo.deleteRecord({ repo: agent.session!.did, collection: 'app.bsky.feed.post', rkey: uris[i][1].split('/').pop()! });
      }),
    );
    const commitCount = () => follower.events.filter((e) => e.event === 'create' || e.event === 'update' || e.event === 'delete').length;
    await until(() => commitCount() >= 4 * 17);
    await follower.firehose.destroy();
    assert.deepEqual(follower.errors.map((e) => e.message), []);

    for (const agent of agents) {
      const did = agent.session!.did;
      // replay the ops of this repo
      const state = new Map<string, string>();
      for (const evt of follower.events) {
        if (evt.did !== did) continue;
        if (evt.event === 'create' || evt.event === 'update') state.set(`${evt.collection}/${evt.rkey}`, evt.cid.toString());
        if (evt.event === 'delete') state.delete(`${evt.collection}/${evt.rkey}`);
      }
      // the repo as getRepo exports it, verified by the official library
      const res = await fetch(`${server.url}/xrpc/com.atproto.sync.getRepo?did=${did}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/vnd.ipld.car');
      const car = new Uint8Array(await res.arrayBuffer());
      const { root, blocks } = await readCarWithRoot(car);
      const signingKey = (await idResolver.did.resolveAtprotoKey(did)) as string;
      const verified = await verifyRepo(blocks, root, did, signingKey);
      const exported = new Map<string, string>();
      for (const write of verified.creates) exported.set(`${write.collection}/${write.rkey}`, write.cid.toString());
      assert.deepEqual(new Map([...exported].sort()), new Map([...state].sort()));
      const list = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 100 });
      assert.equal(list.data.records.length, exported.size);
    }
  });

  it('replays from cursor 0 without gaps or duplicates, then joins the live tail', async () => {
    const agent = await newAgent('replay');
    const { ws, frames } = rawSubscribe('?cursor=0');
    await until(() => frames.length > 0);
    for (let n = 0; n < 5; n++) await agent.post({ text: `live ${n}`, createdAt: new Date().toISOString() });
    const head = server.server.ctx.sequencer.latestSeq();
    await until(() => frames.length > 0 && (frames[frames.length - 1].body.seq as number) >= head);
    ws.close();
    const seqs = frames.map((f) => f.body.seq as number);
    assert.deepEqual(seqs, Array.from({ length: head }, (_, i) => i + 1));
    const types = new Set(frames.map((f) => f.header.t));
    for (const t of ['#identity', '#account', '#commit']) assert.ok(types.has(t), `${t} frames`);
  });

  it('resumes after a reconnect with the last seen cursor, with no gap and no duplicate', async () => {
    const agent = await newAgent('resume');
    const start = server.server.ctx.sequencer.latestSeq();
    const first = rawSubscribe(`?cursor=${start}`);
    await agent.post({ text: 'one', createdAt: new Date().toISOString() });
    await until(() => first.frames.length >= 1);
    first.ws.close();
    await first.closed;
    const last = first.frames[first.frames.length - 1].body.seq as number;
    for (let n = 0; n < 3; n++) await agent.post({ text: `while away ${n}`, createdAt: new Date().toISOString() });
    const second = rawSubscribe(`?cursor=${last}`);
    const head = server.server.ctx.sequencer.latestSeq();
    await until(() => second.frames.length > 0 && (second.frames[second.frames.length - 1].body.seq as number) >= head);
    second.ws.close();
    const seqs = [...first.frames, ...second.frames].map((f) => f.body.seq as number);
    assert.deepEqual(seqs, Array.from({ length: head - start }, (_, i) => start + i + 1));
  });

  it('answers a cursor in the future with a FutureCursor error frame', async () => {
    const { frames, closed } = rawSubscribe('?cursor=999999999');
    await closed;
    assert.equal(frames.length, 1);
    assert.equal(frames[0].header.op, -1);
    assert.equal(frames[0].body.error, 'FutureCursor');
  });

  it('answers a cursor older than the retained log with #info OutdatedCursor, then the oldest kept event', async () => {
    const agent = await newAgent('pruned');
    await agent.post({ text: 'x', createdAt: new Date().toISOString() });
    const { db } = server.server.ctx;
    const cutoff = (db.prepare('SELECT max(seq) AS s FROM repo_seq').get() as { s: number }).s - 3;
    db.prepare('DELETE FROM repo_seq WHERE seq <= ?').run(cutoff);
    const { ws, frames } = rawSubscribe('?cursor=1');
    await until(() => frames.length >= 2);
    ws.close();
    assert.equal(frames[0].header.t, '#info');
    assert.equal(frames[0].body.name, 'OutdatedCursor');
    assert.equal(frames[1].body.seq, cutoff + 1);
  });

  it('keeps 200 idle subscribers connected and delivers to all of them', async () => {
    const agent = await newAgent('many');
    const subs = Array.from({ length: 200 }, () => rawSubscribe(''));
    await Promise.all(subs.map((s) => new Promise((r) => s.ws.on('open', r))));
    await agent.post({ text: 'to everyone', createdAt: new Date().toISOString() });
    await until(() => subs.every((s) => s.frames.length >= 1));
    for (const s of subs) s.ws.close();
  });
});

describe('relays and slow consumers', () => {
  it('asks the configured crawlers to crawl after a write', async () => {
    const { createServer } = await import('node:http');
    const received: Array<{ path: string; body: string }> = [];
    const relay = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayUrl = `http://127.0.0.1:${(relay.address() as { port: number }).port}`;
    const pds = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_CRAWLERS: relayUrl });
    try {
      const agent = new AtpAgent({ service: pds.url });
      await agent.createAccount({ handle: 'crawled.test', email: 'crawled@example.com', password: 'crawled-password' });
      await agent.post({ text: 'crawl me', createdAt: new Date().toISOString() });
      await agent.post({ text: 'and me', createdAt: new Date().toISOString() });
      await until(() => received.length >= 1);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(received.length, 1, 'throttled to one request per interval');
      assert.equal(received[0].path, '/xrpc/com.atproto.sync.requestCrawl');
      assert.deepEqual(JSON.parse(received[0].body), { hostname: 'localhost' });
    } finally {
      await pds.close();
      relay.close();
    }
  });

  it('disconnects a consumer that falls too far behind with ConsumerTooSlow', async () => {
    const agent = await newAgent('slowpoke');
    // A consumer that never reads: its socket stops draining and the server's backlog grows.
    const { Socket } = await import('node:net');
    const port = Number(new URL(server.url).port);
    const socket = new Socket();
    await new Promise<void>((r) => socket.connect(port, '127.0.0.1', r));
    socket.write(
      `GET /xrpc/com.atproto.sync.subscribeRepos?cursor=0 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    socket.pause();
    const big = 'x'.repeat(100_000);
    const writes = Array.from({ length: 250 }, () =>
      agent.com.atproto.repo.createRecord({ repo: agent.session!.did, collection: 'com.example.big', record: { $type: 'com.example.big', big } }),
    );
    await Promise.all(writes);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await until(() => server.server.ctx.firehose.head > 0);
    // Reading now drains what the server managed to send before giving up; it must end the stream.
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.resume();
    await closed;
    assert.ok(received.includes(Buffer.from('ConsumerTooSlow')), 'an error frame named ConsumerTooSlow');
  });
});
