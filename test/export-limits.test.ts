// Issue 12, finding 6: a download whose client stops reading pinned a SQLite read snapshot forever,
// so the WAL could not be checkpointed. Every streamed answer now has a no-progress timeout and a
// maximum duration, and downloads at once are capped per client and in all.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { signUp, startAccountsEnv, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';

/**
 * More than loopback's socket buffers hold (4 MiB sent, ~128 KiB received while unread), so a
 * client that stops reading really does stall the export instead of taking it all into buffers.
 */
const RECORDS = 24;
const RECORD_CHARS = 400_000;

async function fillRepo(account: SignedUp): Promise<void> {
  for (let i = 0; i < RECORDS; i++) {
    await account.agent.com.atproto.repo.createRecord({
      repo: account.did,
      collection: 'com.example.bulk',
      record: { $type: 'com.example.bulk', n: i, data: `${i}:`.padEnd(RECORD_CHARS, 'x') },
    });
  }
}

/** A raw HTTP client: sends the request, takes the first bytes, then stops reading (and keeps its socket open). */
function stalledDownload(url: string, path: string, headers: Record<string, string> = {}): Promise<{ socket: Socket; received: () => Promise<Buffer> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostname}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('data', () => {
      socket.pause();
      const ended = new Promise<Buffer>((done) => socket.once('close', () => done(Buffer.concat(chunks))));
      resolve({
        socket,
        // Reads whatever is left until the server closes the connection.
        received: () => {
          socket.resume();
          return ended;
        },
      });
    });
    socket.once('close', () => reject(new Error('closed before any byte arrived')));
  });
}

/** `PRAGMA wal_checkpoint(TRUNCATE)` from a connection of its own that does not wait for readers. */
function checkpoint(file: string): { busy: number; log: number; checkpointed: number } {
  const db = new BetterSqlite3(file);
  try {
    db.pragma('busy_timeout = 0');
    return (db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>)[0];
  } finally {
    db.close();
  }
}

const post = (account: SignedUp, text: string) =>
  account.agent.com.atproto.repo.createRecord({
    repo: account.did,
    collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
  });

describe('a repo export whose client stops reading', () => {
  let env: AccountsEnv;
  let alice: SignedUp;
  let fullSize: number;

  before(async () => {
    env = await startAccountsEnv({ PDS_STREAM_IDLE_TIMEOUT: '200' });
    alice = await signUp(env, 'export-alice');
    await fillRepo(alice);
    fullSize = (await (await fetch(`${env.url}/xrpc/com.atproto.sync.getRepo?did=${alice.did}`)).arrayBuffer()).byteLength;
  });
  after(() => env.close());

  it('is cut off once it makes no progress, and its snapshot released: the WAL checkpoints to nothing', async () => {
    const download = await stalledDownload(env.url, `/xrpc/com.atproto.sync.getRepo?did=${alice.did}`);
    // (The timeout may already have fired: idle() then resolves at once.)
    await env.server.server.streams.idle();
    // Writes after the export began would have been stuck in the WAL behind its snapshot.
    await post(alice, 'written after the stall');
    const result = checkpoint(env.ctx.db.file);
    assert.equal(result.busy, 0, JSON.stringify(result));
    assert.equal(statSync(`${env.ctx.db.file}-wal`).size, 0);
    const received = await download.received();
    assert.ok(received.byteLength < fullSize, `the stalled client got ${received.byteLength} of ${fullSize} bytes`);
  });
});

describe('a repo export held open by a stalled client, without a short timeout', () => {
  let env: AccountsEnv;
  let alice: SignedUp;

  before(async () => {
    env = await startAccountsEnv();
    alice = await signUp(env, 'export-held');
    await fillRepo(alice);
  });
  after(() => env.close());

  it('pins the WAL while it stalls (the hazard), and frees it when the client goes away', async () => {
    const download = await stalledDownload(env.url, `/xrpc/com.atproto.sync.getRepo?did=${alice.did}`);
    await post(alice, 'written during the stall');
    assert.equal(checkpoint(env.ctx.db.file).busy, 1, 'the export snapshot holds the WAL');
    download.socket.destroy();
    await env.server.server.streams.idle();
    assert.equal(checkpoint(env.ctx.db.file).busy, 0);
  });
});

describe('downloads at once', () => {
  let env: AccountsEnv;
  let alice: SignedUp;

  before(async () => {
    env = await startAccountsEnv({ PDS_STREAM_MAX_CONCURRENT: '2', PDS_STREAM_MAX_CONCURRENT_PER_CLIENT: '1', PDS_TRUSTED_PROXIES: '127.0.0.1' });
    alice = await signUp(env, 'export-caps');
    await fillRepo(alice);
  });
  after(() => env.close());

  const path = () => `/xrpc/com.atproto.sync.getRepo?did=${alice.did}`;
  const from = (ip: string) => ({ 'X-Forwarded-For': ip });
  const download = (ip: string) => fetch(`${env.url}${path()}`, { headers: from(ip) });

  it('are refused with 429 past the per-client cap and past the server cap, and allowed again when one ends', async () => {
    const first = await stalledDownload(env.url, path(), from('203.0.113.1'));
    const again = await download('203.0.113.1');
    assert.equal(again.status, 429);
    const body = (await again.json()) as { error: string; message: string };
    assert.equal(body.error, 'RateLimitExceeded');
    assert.match(body.message, /this client/);

    const second = await stalledDownload(env.url, path(), from('203.0.113.2'));
    const third = await download('203.0.113.3');
    assert.equal(third.status, 429);
    assert.match(((await third.json()) as { message: string }).message, /the server/);

    first.socket.destroy();
    second.socket.destroy();
    await env.server.server.streams.idle();
    const after = await download('203.0.113.1');
    assert.equal(after.status, 200);
    assert.ok((await after.arrayBuffer()).byteLength > RECORDS * RECORD_CHARS);
  });
});
