// Which tables a createRecord's WAL frames belong to: starts Squall (the compiled build, dev mode
// with its built-in did:plc directory) on a fresh data directory, creates --accounts accounts with
// --posts posts each, restarts it (a clean stop checkpoints the WAL away), makes --writes more
// createRecords in rounds of one per account, stops it with SIGKILL so nothing checkpoints, then
// reads the WAL's frame headers (each names the page it holds) and maps the pages to tables and
// indexes with SQLite's dbstat, on a copy.
//
//   npm run build && node bench/wal-pages.mjs [--accounts 8] [--posts 300] [--writes 80]
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

const { values } = parseArgs({ options: { accounts: { type: 'string', default: '8' }, posts: { type: 'string', default: '300' }, writes: { type: 'string', default: '80' } } });
const ACCOUNTS = Number(values.accounts);
const POSTS = Number(values.posts);
const WRITES = Number(values.writes);
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'squall-wal-pages-'));

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const base = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  PDS_PORT: String(port),
  PDS_HOSTNAME: 'localhost',
  PDS_BIND_HOST: '127.0.0.1',
  PDS_DATA_DIRECTORY: dir,
  PDS_SERVICE_HANDLE_DOMAINS: '.test',
  PDS_RATE_LIMITS_ENABLED: 'false',
  PDS_INVITE_REQUIRED: 'false',
  PDS_DEV_MODE: 'true',
  PDS_LOG_LEVEL: 'warn',
};

async function start() {
  const child = spawn(process.execPath, ['bin/squall.mjs', 'serve'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/xrpc/_health`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('Squall did not start');
}

async function stop(child, signal) {
  const exited = new Promise((r) => child.on('exit', r));
  child.kill(signal);
  await exited;
}

async function post(account, text) {
  const res = await fetch(`${base}/xrpc/com.atproto.repo.createRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${account.jwt}` },
    body: JSON.stringify({ repo: account.did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() } }),
  });
  if (!res.ok) throw new Error(`createRecord: ${res.status} ${await res.text()}`);
}

try {
  let child = await start();
  const accounts = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const res = await fetch(`${base}/xrpc/com.atproto.server.createAccount`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: `walpages${i}.test`, email: `walpages${i}@example.com`, password: 'wal-pages-password' }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`createAccount: ${JSON.stringify(body)}`);
    accounts.push({ did: body.did, jwt: body.accessJwt });
  }
  for (let round = 0; round < POSTS; round++) await Promise.all(accounts.map((a, k) => post(a, `post ${round * ACCOUNTS + k}`)));
  await stop(child, 'SIGTERM');

  child = await start();
  const rounds = Math.ceil(WRITES / ACCOUNTS);
  for (let round = 0; round < rounds; round++) await Promise.all(accounts.map((a, k) => post(a, `measured ${round * ACCOUNTS + k}`)));
  await stop(child, 'SIGKILL');

  const wal = readFileSync(join(dir, 'squall.sqlite-wal'));
  const pageSize = wal.readUInt32BE(8);
  const salt = wal.readUInt32BE(16);
  const pages = [];
  let commits = 0;
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) {
    if (wal.readUInt32BE(off + 8) !== salt) break; // a frame left from before the WAL last restarted
    pages.push(wal.readUInt32BE(off));
    if (wal.readUInt32BE(off + 4) !== 0) commits++;
  }
  // a copy: opening it replays the WAL, so dbstat sees the pages as these commits left them
  copyFileSync(join(dir, 'squall.sqlite'), join(dir, 'copy.sqlite'));
  copyFileSync(join(dir, 'squall.sqlite-wal'), join(dir, 'copy.sqlite-wal'));
  const db = new Database(join(dir, 'copy.sqlite'));
  const owner = new Map(db.prepare('SELECT pageno, name, pagetype FROM dbstat').all().map((r) => [r.pageno, `${r.name} (${r.pagetype})`]));
  db.close();
  const byOwner = new Map();
  for (const page of pages) {
    const name = owner.get(page) ?? 'free or unknown';
    byOwner.set(name, (byOwner.get(name) ?? 0) + 1);
  }
  const writes = rounds * ACCOUNTS;
  console.log(`${writes} createRecords on ${ACCOUNTS} accounts of ${POSTS} posts: ${pages.length} WAL frames of ${pageSize} bytes in ${commits} commits, ${(pages.length / writes).toFixed(1)} per createRecord`);
  console.log('| table or index (page type) | frames | per createRecord |\n|---|---:|---:|');
  for (const [name, n] of [...byOwner].sort((a, b) => b[1] - a[1])) console.log(`| ${name} | ${n} | ${(n / writes).toFixed(2)} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
