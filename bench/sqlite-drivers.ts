// better-sqlite3 against Node's built-in node:sqlite, on the statements Squall's hot paths run:
// the commit transaction (block rows + record row + root update, one transaction per commit, WAL
// with synchronous=FULL), point reads of blocks and records, and a listRecords page.
// Run: npm run bench -- sqlite-drivers   (or node --import tsx bench/sqlite-drivers.ts)
// Both drivers bundle their own SQLite build; the versions are printed.
import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { compareOps } from './lib/compare.ts';
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';

const SCHEMA = `
  CREATE TABLE repo_block (did TEXT NOT NULL, cid TEXT NOT NULL, rev TEXT NOT NULL, bytes BLOB NOT NULL,
    PRIMARY KEY (did, cid)) WITHOUT ROWID;
  CREATE TABLE record (did TEXT NOT NULL, collection TEXT NOT NULL, rkey TEXT NOT NULL, cid TEXT NOT NULL,
    rev TEXT NOT NULL, PRIMARY KEY (did, collection, rkey)) WITHOUT ROWID;
  CREATE TABLE repo_root (did TEXT PRIMARY KEY, cid TEXT NOT NULL, rev TEXT NOT NULL) WITHOUT ROWID;
`;
const PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL', 'busy_timeout = 5000', 'temp_store = MEMORY', 'cache_size = -32000'];

/** The subset both drivers share once prepared: positional run/get/all. */
interface Stmt {
  run(...args: unknown[]): unknown;
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown[];
}
interface Driver {
  exec(sql: string): void;
  prepare(sql: string): Stmt;
  close(): void;
}

function openBetter(file: string): Driver {
  const db = new BetterSqlite3(file);
  for (const p of PRAGMAS) db.pragma(p);
  return { exec: (sql) => void db.exec(sql), prepare: (sql) => db.prepare(sql) as unknown as Stmt, close: () => db.close() };
}

function openNode(file: string): Driver {
  const db = new DatabaseSync(file);
  for (const p of PRAGMAS) db.exec(`PRAGMA ${p}`);
  return { exec: (sql) => db.exec(sql), prepare: (sql) => db.prepare(sql) as unknown as Stmt, close: () => db.close() };
}

const DIDS = Array.from({ length: 20 }, (_, i) => `did:plc:${String(i).padStart(24, 'a')}`);
const cidOf = () => `bafyrei${randomBytes(26).toString('hex').slice(0, 52)}`;
const blockBytes = (n: number) => randomBytes(n);

interface Workload {
  commit(): void;
  getBlock(): void;
  getRecord(): void;
  listPage(): void;
}

function workload(db: Driver): Workload {
  db.exec(SCHEMA);
  const putBlock = db.prepare('INSERT INTO repo_block (did, cid, rev, bytes) VALUES (?, ?, ?, ?) ON CONFLICT (did, cid) DO UPDATE SET rev = excluded.rev');
  const putRecord = db.prepare('INSERT INTO record (did, collection, rkey, cid, rev) VALUES (?, ?, ?, ?, ?)');
  const putRoot = db.prepare('INSERT INTO repo_root (did, cid, rev) VALUES (?, ?, ?) ON CONFLICT (did) DO UPDATE SET cid = excluded.cid, rev = excluded.rev');
  const getBlock = db.prepare('SELECT bytes FROM repo_block WHERE did = ? AND cid = ?');
  const getRecord = db.prepare('SELECT cid, rev FROM record WHERE did = ? AND collection = ? AND rkey = ?');
  const listPage = db.prepare('SELECT rkey, cid FROM record WHERE did = ? AND collection = ? ORDER BY rkey DESC LIMIT 50');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const known: Array<[string, string, string]> = [];
  let n = 0;
  const oneCommit = () => {
    const did = DIDS[n % DIDS.length];
    const rev = `3l${String(n).padStart(11, '0')}`;
    const rkey = `3k${String(n++).padStart(11, '0')}`;
    const recordCid = cidOf();
    begin.run();
    // A commit of one record on a mid-sized repo: the record, ~3 MST nodes, the commit block.
    putBlock.run(did, recordCid, rev, blockBytes(300));
    for (let i = 0; i < 3; i++) putBlock.run(did, cidOf(), rev, blockBytes(600));
    const commitCid = cidOf();
    putBlock.run(did, commitCid, rev, blockBytes(150));
    putRecord.run(did, 'app.bsky.feed.post', rkey, recordCid, rev);
    putRoot.run(did, commitCid, rev);
    commit.run();
    known.push([did, rkey, recordCid]);
  };
  for (let i = 0; i < 5000; i++) oneCommit();
  let r = 0;
  return {
    commit: oneCommit,
    getBlock: () => {
      const [did, , cid] = known[r++ % known.length];
      if (!getBlock.get(did, cid)) throw new Error('missing block');
    },
    getRecord: () => {
      const [did, rkey] = known[r++ % known.length];
      if (!getRecord.get(did, 'app.bsky.feed.post', rkey)) throw new Error('missing record');
    },
    listPage: () => {
      const [did] = known[r++ % known.length];
      if (listPage.all(did, 'app.bsky.feed.post').length !== 50) throw new Error('short page');
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'squall-sqlite-drivers-'));
try {
  const better = openBetter(join(dir, 'better.sqlite'));
  const builtin = openNode(join(dir, 'node.sqlite'));
  const versionOf = (d: Driver) => (d.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  console.log(`Node ${process.version}; better-sqlite3 (SQLite ${versionOf(better)}) vs node:sqlite (SQLite ${versionOf(builtin)})\n`);
  const b = workload(better);
  const n = workload(builtin);
  const rows: string[][] = [];
  for (const op of ['commit', 'getBlock', 'getRecord', 'listPage'] as const) {
    const result = await compareOps({ 'better-sqlite3': b[op], 'node:sqlite': n[op] }, { rounds: 5, roundMs: 300 });
    const [x, y] = [result['better-sqlite3']!, result['node:sqlite']!];
    rows.push([op, formatNumber(x), formatNumber(y), formatRatio(y / x)]);
  }
  console.log(markdownTable(['operation (ops/s)', 'better-sqlite3', 'node:sqlite', 'node:sqlite / better'], rows));
  better.close();
  builtin.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
