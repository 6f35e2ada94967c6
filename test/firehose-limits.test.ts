// Issue 12, finding 8: the firehose accepted any number of subscribers (40 anonymous cursor=0
// subscribers from one address were all served). Upgrades past the per-client or the total cap are
// now refused with a JSON 429 before the WebSocket opens.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from './helpers/server.ts';

let server: TestServer;

before(async () => {
  server = await startTestServer({ PDS_FIREHOSE_MAX_SUBSCRIBERS: '3', PDS_FIREHOSE_MAX_SUBSCRIBERS_PER_CLIENT: '2', PDS_TRUSTED_PROXIES: '127.0.0.1' });
});
after(() => server.close());

type Outcome = { open: WebSocket } | { refused: number; body: { error: string; message: string } };

/** Subscribes as the client at `ip` (the test server trusts X-Forwarded-For from loopback). */
function subscribe(ip: string): Promise<Outcome> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/xrpc/com.atproto.sync.subscribeRepos?cursor=0`, { headers: { 'X-Forwarded-For': ip } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ open: ws }));
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ refused: res.statusCode ?? 0, body: JSON.parse(text) as { error: string; message: string } }));
    });
    ws.once('error', reject);
  });
}

function opened(outcome: Outcome): WebSocket {
  assert.ok('open' in outcome, `expected the subscription to open, got ${JSON.stringify(outcome)}`);
  return outcome.open;
}

function refused(outcome: Outcome, message: RegExp): void {
  assert.ok('refused' in outcome, 'expected the upgrade to be refused');
  assert.equal(outcome.refused, 429);
  assert.equal(outcome.body.error, 'RateLimitExceeded');
  assert.match(outcome.body.message, message);
}

async function close(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return;
  await new Promise((resolve) => {
    ws.once('close', resolve);
    ws.close();
  });
}

describe('firehose subscriber caps', () => {
  it('refuses a client past its cap, and anyone past the total, and takes subscribers again as they leave', async () => {
    const a1 = opened(await subscribe('203.0.113.1'));
    const a2 = opened(await subscribe('203.0.113.1'));
    refused(await subscribe('203.0.113.1'), /this client/);
    const b1 = opened(await subscribe('203.0.113.2'));
    refused(await subscribe('203.0.113.3'), /the server/);

    await close(a1);
    // The server counts a subscriber out when its socket closes, just after the client sees the close.
    let again: Outcome = await subscribe('203.0.113.3');
    for (let attempt = 0; 'refused' in again && attempt < 100; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      again = await subscribe('203.0.113.3');
    }
    const c1 = opened(again);
    for (const ws of [a2, b1, c1]) await close(ws);
  });
});
