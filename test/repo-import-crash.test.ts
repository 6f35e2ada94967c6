import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import { decodeSigningKey } from '../src/repo/signing-keys.ts';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { buildRepoCar } from './helpers/repo-car.ts';
import { freePort } from './helpers/server.ts';
import { startSquallProcess, stopProcess } from './helpers/squall-process.ts';

/**
 * A repo import cut off by SIGKILL at any moment (while the CAR uploads, while it is verified,
 * while it is written) leaves the account either as it was or with the whole import.
 */
let plc: TestPlc;
let dataDir: string;
let port: number;
let base: string;
let running: ChildProcess | undefined;

before(async () => {
  plc = await startTestPlc();
  dataDir = mkdtempSync(join(tmpdir(), 'squall-import-crash-'));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
});
after(async () => {
  if (running) await stopProcess(running, 'SIGKILL');
  await plc.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<ChildProcess> {
  running = await startSquallProcess({ port, dataDir, plcUrl: plc.url, adminPassword: 'import-crash-admin' });
  return running;
}

async function xrpc(method: 'GET' | 'POST', nsid: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}/xrpc/${nsid}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

/** The database of the stopped server, read directly: it must be sound and self-consistent. */
function checkDatabase(did: string): void {
  const db = new BetterSqlite3(join(dataDir, 'squall.sqlite'), { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    const orphans = db
      .prepare('SELECT count(*) AS n FROM record WHERE did = ? AND bytes IS NULL')
      .get(did) as { n: number };
    assert.equal(orphans.n, 0, 'every indexed record has its block');
    const root = db.prepare('SELECT cid FROM repo_root WHERE did = ?').get(did) as { cid: string };
    assert.ok(db.prepare('SELECT 1 FROM repo_block WHERE did = ? AND cid = ?').get(did, root.cid), 'the root commit is stored');
  } finally {
    db.close();
  }
}

describe('a repo import cut off by SIGKILL', () => {
  it('leaves the old repo or the whole import, never a mix, and the import then goes through', async () => {
    let child = await start();
    const created = await xrpc('POST', 'com.atproto.server.createAccount', undefined, { handle: 'crashing.test', email: 'crashing@example.com', password: 'crashing-password' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const did = created.body.did as string;
    const token = created.body.accessJwt as string;
    for (let i = 0; i < 5; i++) {
      await xrpc('POST', 'com.atproto.repo.createRecord', token, { repo: did, collection: 'app.bsky.feed.post', record: { text: `old ${i}`, createdAt: new Date().toISOString() } });
    }
    const old = (await xrpc('GET', 'com.atproto.server.checkAccountStatus', token)).body;

    const db = new BetterSqlite3(join(dataDir, 'squall.sqlite'), { readonly: true });
    const keypair = decodeSigningKey((db.prepare('SELECT signing_key FROM account WHERE did = ?').get(did) as { signing_key: string }).signing_key);
    db.close();
    const { car, blocks } = await buildRepoCar(did, keypair, 20_000);

    const outcomes: string[] = [];
    for (const delayMs of [30, 150, 400, 700, 1000, 1400, 1900, 2500, 3200]) {
      const upload = fetch(`${base}/xrpc/com.atproto.repo.importRepo`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.ipld.car', authorization: `Bearer ${token}` },
        body: car,
      }).then(
        (res) => res.status,
        () => 0,
      );
      await new Promise((r) => setTimeout(r, delayMs));
      await stopProcess(child, 'SIGKILL');
      const answered = await upload;
      checkDatabase(did);
      child = await start();
      assert.deepEqual(readdirSync(join(dataDir, 'tmp')).filter((f) => f.startsWith('repo-import-')), [], 'the staging file is gone after the restart');
      const status = (await xrpc('GET', 'com.atproto.server.checkAccountStatus', token)).body;
      if (status.repoCommit === old.repoCommit) {
        assert.deepEqual(status, old, 'the old repo, untouched');
        assert.notEqual(answered, 200, 'an import that was answered 200 is there');
        outcomes.push('old');
      } else {
        // a live account's import is re-signed as a newer commit: same tree, same number of blocks
        assert.deepEqual([status.indexedRecords, status.repoBlocks], [20_000, blocks], 'the whole import');
        assert.ok((status.repoRev as string) > (old.repoRev as string));
        outcomes.push('new');
        break;
      }
    }
    assert.ok(outcomes.length > 0);

    const res = await fetch(`${base}/xrpc/com.atproto.repo.importRepo`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.ipld.car', authorization: `Bearer ${token}` },
      body: car,
    });
    assert.equal(res.status, 200, await res.text());
    const exported = new Uint8Array(await (await fetch(`${base}/xrpc/com.atproto.sync.getRepo?did=${did}`)).arrayBuffer());
    const parsed = await readCarWithRoot(exported);
    const key = await testIdResolver(plc.url).did.resolveAtprotoKey(did);
    const verified = await verifyRepo(parsed.blocks, parsed.root, did, key);
    assert.equal(verified.creates.length, 20_000);
    await stopProcess(child);
  });
});
