// The repository engine against @atproto/repo 0.9 (the reference PDS's engine), same inputs, same
// process run: commits on a repo of 10,000 records (sign + MST + blocks into SQLite, WAL,
// synchronous=FULL, one transaction per commit), a 200-write batch, full CAR export and CAR
// import-and-verify, with peak memory. Run: node --import tsx bench/repo.ts [--records 10000]
//
// Both sides write the same table layout through better-sqlite3 on their own database file; the
// reference side goes through a RepoStorage written here the way the reference PDS writes its
// (async methods over SQL, the commit's blocks, removals and root in one transaction).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto';
import type { Cid as AtprotoCid } from '@atproto/lex-data';
import {
  BlockMap,
  getFullRepo,
  ReadableBlockstore,
  Repo,
  verifyRepoCar as atprotoVerifyRepoCar,
  WriteOpAction,
  type CommitData,
  type RecordWriteOp,
  type RepoStorage,
} from '@atproto/repo';
import { generateKeypair, type Keypair } from '../src/crypto/index.ts';
import { Database, migrate } from '../src/db/index.ts';
import repoBlocks from '../src/db/migrations/0002-repo-blocks.ts';
import { writeCar } from '../src/ipld/car.ts';
import { cidToString, type Cid } from '../src/ipld/cid.ts';
import { NodeCache } from '../src/ipld/mst/index.ts';
import { SqliteBlockStore, streamRepoBlocks } from '../src/repo/sqlite-block-store.ts';
import { verifyRepoCar } from '../src/repo/verify.ts';
import { applyWriteBatch, type RecordWrite } from '../src/repo/write-batch.ts';
import { median } from './lib/stats.ts';
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';

const RECORDS = Number(process.argv[process.argv.indexOf('--records') + 1]) || 10_000;
const COMMITS_PER_ROUND = 40;
const ROUNDS = 8;
const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/**
 * Peak JS heap + external memory of a phase, sampled at every step, above the lowest level seen
 * in it: the baseline taken after a forced GC can still include buffers whose memory is released
 * a little later, so the phase's own minimum is the safer floor.
 */
class Peak {
  #min = Infinity;
  #max = 0;
  start(): void {
    gc();
    this.#min = used();
    this.#max = this.#min;
  }
  sample(): void {
    const now = used();
    if (now < this.#min) this.#min = now;
    if (now > this.#max) this.#max = now;
  }
  get max(): number {
    return this.#max - this.#min;
  }
}
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
const MB = 1024 * 1024;

let tidClock = 1_700_000_000_000_000;
const TID = '234567abcdefghijklmnopqrstuvwxyz';
function rkey(): string {
  let n = (tidClock += 1 + Math.floor(Math.random() * 1000));
  let s = '';
  for (let i = 0; i < 11; i++) {
    s = TID[n % 32] + s;
    n = Math.floor(n / 32);
  }
  return s + '22';
}
const post = (i: number) => ({ $type: 'app.bsky.feed.post', text: `post number ${i}, with some text to make it realistic`, createdAt: new Date(1_700_000_000_000 + i * 1000).toISOString(), langs: ['en'] });

function openDb(dir: string, name: string): Database {
  const db = new Database(join(dir, `${name}.sqlite`));
  migrate(db, [repoBlocks]);
  db.exec('CREATE TABLE IF NOT EXISTS bench_root (did TEXT PRIMARY KEY, cid TEXT NOT NULL, rev TEXT NOT NULL)');
  return db;
}

// ---- ours ------------------------------------------------------------------------------------

class OurRepo {
  readonly store: SqliteBlockStore;
  readonly cache = new NodeCache();
  head: { cid: Cid; rev: string; data: Cid } | null = null;
  constructor(
    readonly db: Database,
    public keypair: Keypair,
  ) {
    this.store = new SqliteBlockStore(db.handle, DID);
  }

  async commit(writes: RecordWrite[]): Promise<void> {
    const result = await applyWriteBatch({ did: DID, keypair: this.keypair, prev: this.head, blocks: this.store, writes, cache: this.cache });
    this.db.transaction(() => {
      this.store.putMany(result.newBlocks, result.rev);
      this.store.deleteMany(result.orphaned);
      this.db.prepare('INSERT OR REPLACE INTO bench_root (did, cid, rev) VALUES (?, ?, ?)').run(DID, cidToString(result.cid), result.rev);
    });
    this.head = { cid: result.cid, rev: result.rev, data: result.commit.data };
  }
}

// ---- the reference engine over the same kind of table ------------------------------------------

class AtprotoSqlStorage extends ReadableBlockstore implements RepoStorage {
  constructor(readonly db: Database) {
    super();
  }
  async getRoot(): Promise<AtprotoCid | null> {
    const row = this.db.prepare('SELECT cid FROM bench_root WHERE did = ?').get(DID) as { cid: string } | undefined;
    return row ? (parseAtprotoCid(row.cid) as AtprotoCid) : null;
  }
  async getBytes(cid: AtprotoCid): Promise<Uint8Array | null> {
    return (this.db.prepare('SELECT bytes FROM repo_block WHERE did = ? AND cid = ?').pluck().get(DID, cid.toString()) as Uint8Array | undefined) ?? null;
  }
  async has(cid: AtprotoCid): Promise<boolean> {
    return (await this.getBytes(cid)) !== null;
  }
  async getBlocks(cids: AtprotoCid[]): Promise<{ blocks: BlockMap; missing: AtprotoCid[] }> {
    const blocks = new BlockMap();
    const missing: AtprotoCid[] = [];
    for (const cid of cids) {
      const bytes = await this.getBytes(cid);
      if (bytes) blocks.set(cid, bytes);
      else missing.push(cid);
    }
    return { blocks, missing };
  }
  async putBlock(cid: AtprotoCid, bytes: Uint8Array, rev: string): Promise<void> {
    this.db.prepare('INSERT INTO repo_block (did, cid, rev, bytes) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET rev = excluded.rev').run(DID, cid.toString(), rev, bytes);
  }
  async putMany(blocks: BlockMap, rev: string): Promise<void> {
    for (const [cid, bytes] of blocks) await this.putBlock(cid, bytes, rev);
  }
  async updateRoot(cid: AtprotoCid, rev: string): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO bench_root (did, cid, rev) VALUES (?, ?, ?)').run(DID, cid.toString(), rev);
  }
  async applyCommit(commit: CommitData): Promise<void> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      await this.putMany(commit.newBlocks, commit.rev);
      for (const cid of commit.removedCids.toList()) this.db.prepare('DELETE FROM repo_block WHERE did = ? AND cid = ?').run(DID, cid.toString());
      await this.updateRoot(commit.cid, commit.rev);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }
}

let parseAtprotoCid: (s: string) => unknown;

// ---- phases ----------------------------------------------------------------------------------

async function main() {
  parseAtprotoCid = (await import('@atproto/lex-data')).parseCid;
  const dir = mkdtempSync(join(tmpdir(), 'squall-bench-'));
  const peak = new Peak();
  const rows: Array<[string, string, number | undefined, number | undefined, string]> = [];
  try {
    const keypair = await generateKeypair('ES256K');
    const theirKey = await Secp256k1Keypair.import(keypair.exportPrivateKey());
    const ours = new OurRepo(openDb(dir, 'ours'), keypair);
    const theirStorage = new AtprotoSqlStorage(openDb(dir, 'theirs'));
    let theirs = await Repo.create(theirStorage, DID, theirKey);
    await ours.commit([]);

    // the same 10,000 records in both, written 200 at a time
    let n = 0;
    const batches: RecordWrite[][] = [];
    while (n < RECORDS) {
      const batch: RecordWrite[] = [];
      for (let i = 0; i < 200 && n < RECORDS; i++, n++) batch.push({ action: 'create', collection: 'app.bsky.feed.post', rkey: rkey(), record: post(n) });
      batches.push(batch);
    }
    for (const batch of batches) {
      await ours.commit(batch);
      theirs = await theirs.applyWrites(batch.map(toTheirs), theirKey);
    }
    if (cidToString(ours.head!.data) !== theirs.commit.data.toString()) throw new Error('the two engines built different trees');
    process.stderr.write(`built two repos of ${RECORDS} records\n`);

    // single-record commits, interleaved rounds; k256 (what the reference PDS uses) and P-256
    const p256 = await generateKeypair('ES256');
    const theirP256 = await P256Keypair.import(p256.exportPrivateKey());
    for (const [label, ourKey, theirKeyFor] of [
      ['k256', keypair, theirKey],
      ['P-256', p256, theirP256],
    ] as const) {
      ours.keypair = ourKey;
      const rates: { ours: number[]; theirs: number[] } = { ours: [], theirs: [] };
      const peaks = { ours: 0, theirs: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        const writes = Array.from({ length: COMMITS_PER_ROUND }, () => ({ action: 'create' as const, collection: 'app.bsky.feed.post', rkey: rkey(), record: post(n++) }));
        peak.start();
        let t = performance.now();
        for (const w of writes) {
          await ours.commit([w]);
          peak.sample();
        }
        rates.ours.push((COMMITS_PER_ROUND * 1000) / (performance.now() - t));
        peaks.ours = Math.max(peaks.ours, peak.max);
        peak.start();
        t = performance.now();
        for (const w of writes) {
          theirs = await theirs.applyWrites(toTheirs(w), theirKeyFor);
          peak.sample();
        }
        rates.theirs.push((COMMITS_PER_ROUND * 1000) / (performance.now() - t));
        peaks.theirs = Math.max(peaks.theirs, peak.max);
      }
      rows.push([`single-record commits, ${label} key`, 'commits/s', median(rates.ours), median(rates.theirs), mem(peaks)]);
    }
    ours.keypair = keypair;

    // the engine alone: the same commits formatted with a signer that does no work, nothing written
    {
      const noSign = { sign: async () => new Uint8Array(64) };
      const theirNoSign = { jwtAlg: 'ES256K', did: () => theirKey.did(), sign: async () => new Uint8Array(64) };
      const rates: { ours: number[]; theirs: number[] } = { ours: [], theirs: [] };
      for (let round = 0; round < ROUNDS; round++) {
        const writes = Array.from({ length: COMMITS_PER_ROUND }, () => ({ action: 'create' as const, collection: 'app.bsky.feed.post', rkey: rkey(), record: post(n++) }));
        let t = performance.now();
        for (const w of writes) await applyWriteBatch({ did: DID, keypair: noSign, prev: ours.head, blocks: ours.store, writes: [w], cache: ours.cache });
        rates.ours.push((COMMITS_PER_ROUND * 1000) / (performance.now() - t));
        t = performance.now();
        for (const w of writes) await theirs.formatCommit(toTheirs(w), theirNoSign as unknown as Secp256k1Keypair);
        rates.theirs.push((COMMITS_PER_ROUND * 1000) / (performance.now() - t));
      }
      rows.push(['commit work without signing or writing', 'commits/s', median(rates.ours), median(rates.theirs), '']);
    }

    // 200-write batches
    const batchTimes: { ours: number[]; theirs: number[] } = { ours: [], theirs: [] };
    const batchPeak = { ours: 0, theirs: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const writes = Array.from({ length: 200 }, () => ({ action: 'create' as const, collection: 'app.bsky.feed.like', rkey: rkey(), record: post(n++) }));
      peak.start();
      let t = performance.now();
      await ours.commit(writes);
      batchTimes.ours.push(performance.now() - t);
      peak.sample();
      batchPeak.ours = Math.max(batchPeak.ours, peak.max);
      peak.start();
      t = performance.now();
      theirs = await theirs.applyWrites(writes.map(toTheirs), theirKey);
      batchTimes.theirs.push(performance.now() - t);
      peak.sample();
      batchPeak.theirs = Math.max(batchPeak.theirs, peak.max);
    }
    rows.push(['200-write batch', 'batches/s', 1000 / median(batchTimes.ours)!, 1000 / median(batchTimes.theirs)!, mem(batchPeak)]);

    // full export, streamed and counted (never concatenated)
    const exportRates: { ours: number[]; theirs: number[] } = { ours: [], theirs: [] };
    const exportPeak = { ours: 0, theirs: 0 };
    let carSize = 0;
    for (let round = 0; round < ROUNDS; round++) {
      peak.start();
      let t = performance.now();
      carSize = await drain(exportOurs(ours), peak);
      exportRates.ours.push(carSize / MB / ((performance.now() - t) / 1000));
      exportPeak.ours = Math.max(exportPeak.ours, peak.max);
      peak.start();
      t = performance.now();
      const theirSize = await drain(getFullRepo(theirStorage, theirs.cid), peak);
      exportRates.theirs.push(theirSize / MB / ((performance.now() - t) / 1000));
      exportPeak.theirs = Math.max(exportPeak.theirs, peak.max);
    }
    rows.push([`full CAR export (${(carSize / MB).toFixed(1)} MB)`, 'MB/s', median(exportRates.ours), median(exportRates.theirs), mem(exportPeak)]);

    // import and verify the same CAR (ours, which both can read), storing its blocks
    const car = Buffer.concat(await collect(exportOurs(ours)));
    const importRates: { ours: number[]; theirs: number[] } = { ours: [], theirs: [] };
    const importPeak = { ours: 0, theirs: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const target = openDb(dir, `import-ours-${round}`);
      peak.start();
      let t = performance.now();
      const verified = await verifyRepoCar(car, { did: DID, didKey: keypair.did() });
      peak.sample();
      target.transaction(() => new SqliteBlockStore(target.handle, DID).putMany(verified.blocks, verified.commit.rev));
      importRates.ours.push(car.length / MB / ((performance.now() - t) / 1000));
      peak.sample();
      importPeak.ours = Math.max(importPeak.ours, peak.max);
      target.close();
      const theirTarget = new AtprotoSqlStorage(openDb(dir, `import-theirs-${round}`));
      peak.start();
      t = performance.now();
      const theirVerified = await atprotoVerifyRepoCar(car, DID, keypair.did());
      peak.sample();
      await theirTarget.applyCommit(theirVerified.commit);
      importRates.theirs.push(car.length / MB / ((performance.now() - t) / 1000));
      peak.sample();
      importPeak.theirs = Math.max(importPeak.theirs, peak.max);
      theirTarget.db.close();
    }
    rows.push(['CAR import + verify', 'MB/s', median(importRates.ours), median(importRates.theirs), mem(importPeak)]);

    // export memory must not grow with the repo: live memory (garbage collected as it goes, not
    // timed) while exporting this repo and one six times bigger, ours only
    const big = new OurRepo(openDb(dir, 'big'), keypair);
    await big.commit([]);
    for (let i = 0; i < RECORDS * 6; i += 200) {
      await big.commit(Array.from({ length: 200 }, () => ({ action: 'create' as const, collection: 'app.bsky.feed.post', rkey: rkey(), record: post(n++) })));
    }
    // each measured warm (second run): the first pays one-off allocations (code, statement caches)
    await liveExportMemory(ours);
    const small = await liveExportMemory(ours);
    await liveExportMemory(big);
    const live = [small, await liveExportMemory(big)];

    console.log(
      markdownTable(
        ['workload', 'unit', 'Squall', '@atproto/repo', 'ratio', 'peak JS heap + external (Squall / @atproto/repo)'],
        rows.map(([name, unit, a, b, m]) => [name, unit, formatNumber(a, a !== undefined && a < 100 ? 1 : 0), formatNumber(b, b !== undefined && b < 100 ? 1 : 0), formatRatio(a !== undefined && b !== undefined ? a / b : undefined), m]),
        [2, 3, 4],
      ),
    );
    console.log(
      `\nExport live memory, Squall: ${(live[0].peak / MB).toFixed(2)} MB for ${RECORDS} records (${(live[0].size / MB).toFixed(1)} MB CAR), ` +
        `${(live[1].peak / MB).toFixed(2)} MB for ${RECORDS * 6} records (${(live[1].size / MB).toFixed(1)} MB CAR).`,
    );
    console.log('Single-record commits: signature, MST update, blocks and root in one SQLite transaction (WAL, synchronous=FULL).');
    console.log('Both engines pay a signature and an fsync per commit, which bounds the commit ratio; the row without signing or writing isolates the engines.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function toTheirs(w: RecordWrite): RecordWriteOp {
  return { action: WriteOpAction.Create, collection: w.collection, rkey: w.rkey, record: w.record as Record<string, unknown> } as RecordWriteOp;
}

/** Our export: the commit block first, then every stored block in keyset pages. */
function exportOurs(repo: OurRepo): AsyncIterable<Uint8Array> {
  const head = repo.head!;
  const commitCid = cidToString(head.cid);
  function* blocks() {
    yield { cid: head.cid, bytes: repo.store.get(commitCid)! };
    for (const block of streamRepoBlocks(repo.db.handle, DID)) if (cidToString(block.cid) !== commitCid) yield block;
  }
  return writeCar(head.cid, blocks());
}

async function drain(chunks: AsyncIterable<Uint8Array>, peak: Peak): Promise<number> {
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    peak.sample();
  }
  return size;
}

/** Peak of the live heap + external memory during an export, with a full GC every few chunks. */
async function liveExportMemory(repo: OurRepo): Promise<{ peak: number; size: number }> {
  gc();
  const base = used();
  let peak = 0;
  let size = 0;
  let chunks = 0;
  for await (const chunk of exportOurs(repo)) {
    size += chunk.length;
    if (++chunks % 8 === 0) {
      gc();
      peak = Math.max(peak, used() - base);
    }
  }
  return { peak, size };
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

function mem(p: { ours: number; theirs: number }): string {
  return `${(p.ours / MB).toFixed(1)} / ${(p.theirs / MB).toFixed(1)} MB`;
}

await main();
