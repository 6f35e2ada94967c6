import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { WebSocket } from 'ws';
import { decodeCbor, decodeCborFirst } from '../src/ipld/cbor.ts';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { freePort } from './helpers/server.ts';
import { startSquallProcess } from './helpers/squall-process.ts';

/**
 * An acknowledged write survives a crash: a real server process is killed with SIGKILL while
 * writers are busy, restarted on the same data, and checked.
 */
let plc: TestPlc;
let dataDir: string;
let port: number;
let base: string;
/** The server process running now, so a failing test cannot leave it behind. */
let running: ChildProcess | undefined;

before(async () => {
  plc = await startTestPlc();
  dataDir = mkdtempSync(join(tmpdir(), 'squall-crash-'));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
});
after(async () => {
  if (running && running.exitCode === null && running.signalCode === null) running.kill('SIGKILL');
  await plc.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startProcess(): Promise<ChildProcess> {
  running = await startSquallProcess({ port, dataDir, plcUrl: plc.url, adminPassword: 'crash-admin-password' });
  return running;
}

async function xrpc(nsid: string, body: unknown, token?: string) {
  const res = await fetch(`${base}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, string> };
}

/** Every event of the log, read through the firehose from cursor 0. */
async function readLog(): Promise<Array<Record<string, unknown> & { $t: string }>> {
  const head = (await (await fetch(`${base}/xrpc/_admin/status`, { headers: { authorization: 'Bearer crash-admin-password' } })).json()) as { counts: { events: number } };
  const events: Array<Record<string, unknown> & { $t: string }> = [];
  if (head.counts.events === 0) return events;
  const ws = new WebSocket(`${base.replace('http', 'ws')}/xrpc/com.atproto.sync.subscribeRepos?cursor=0`);
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      const [header, rest] = decodeCborFirst(new Uint8Array(data));
      events.push({ ...(decodeCbor(rest) as Record<string, unknown>), $t: (header as { t: string }).t });
      if (events.length === head.counts.events) resolve();
    });
    ws.on('error', reject);
  });
  ws.close();
  return events;
}

describe('crash safety', () => {
  it('keeps every acknowledged write and a consistent log across SIGKILLs mid-load', async () => {
    let child = await startProcess();
    const accounts: Array<{ did: string; token: string }> = [];
    for (let i = 0; i < 4; i++) {
      const res = await xrpc('com.atproto.server.createAccount', { handle: `crash${i}.test`, email: `crash${i}@example.com`, password: 'crash-password' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      accounts.push({ did: res.body.did, token: res.body.accessJwt });
    }
    const acknowledged: Array<{ did: string; uri: string; cid: string }> = [];

    for (let round = 0; round < 3; round++) {
      let stop = false;
      const writers = accounts.flatMap((account) =>
        [0, 1].map(async () => {
          while (!stop) {
            try {
              const res = await xrpc(
                'com.atproto.repo.createRecord',
                { repo: account.did, collection: 'app.bsky.feed.post', record: { text: `round ${round}`, createdAt: new Date().toISOString() } },
                account.token,
              );
              if (res.status === 200) acknowledged.push({ did: account.did, uri: res.body.uri, cid: res.body.cid });
            } catch {
              return; // the server is gone
            }
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 700 + round * 200));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      stop = true;
      await Promise.all(writers);
      child = await startProcess();

      // every acknowledged write is there, with the CID we were told
      for (const write of acknowledged) {
        const [, , did, collection, rkey] = write.uri.split('/');
        const res = await fetch(`${base}/xrpc/com.atproto.repo.getRecord?repo=${did}&collection=${collection}&rkey=${rkey}`);
        assert.equal(res.status, 200, `acknowledged ${write.uri} is missing after the crash`);
        assert.equal(((await res.json()) as { cid: string }).cid, write.cid);
      }

      // the log holds exactly one #commit per commit: a chain per repo ending at the root
      const events = await readLog();
      const seqs = events.map((e) => e.seq as number);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'seqs increase');
      assert.equal(new Set(seqs).size, seqs.length, 'no duplicate seq');
      const idResolver = testIdResolver(plc.url);
      for (const account of accounts) {
        const commits = events.filter((e) => e.$t === '#commit' && e.repo === account.did);
        for (let i = 1; i < commits.length; i++) assert.equal(commits[i].since, commits[i - 1].rev, 'each commit follows the previous one');
        const latest = (await (await fetch(`${base}/xrpc/com.atproto.sync.getLatestCommit?did=${account.did}`)).json()) as { cid: string; rev: string };
        assert.equal(commits[commits.length - 1].rev, latest.rev, 'the last event is the repo root');

        const car = new Uint8Array(await (await fetch(`${base}/xrpc/com.atproto.sync.getRepo?did=${account.did}`)).arrayBuffer());
        const { root, blocks } = await readCarWithRoot(car);
        const key = (await idResolver.did.resolveAtprotoKey(account.did)) as string;
        const repo = await verifyRepo(blocks, root, account.did, key);
        const created = commits.reduce((n, e) => n + (e.ops as Array<{ action: string }>).filter((op) => op.action === 'create').length, 0);
        assert.equal(repo.creates.length, created, 'replaying the log gives the repo');
        for (const write of repo.creates) assert.ok(blocks.get(write.cid), 'every record block is present');
      }
    }
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    assert.ok(acknowledged.length > 20, `enough writes were acknowledged (${acknowledged.length})`);
  });
});
