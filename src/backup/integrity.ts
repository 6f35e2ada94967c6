import BetterSqlite3 from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { DiskBlobStore } from '../blobs/disk-blob-store.ts';
import { decodeCbor } from '../ipld/cbor.ts';
import { cidMatchesBytes, cidToString, parseCid, tryParseCid } from '../ipld/cid.ts';
import { findBlobRefs } from '../ipld/data-model.ts';
import { decodeCommit } from '../repo/commit.ts';
import { hasRecordBytes, repoBlockReader } from '../repo/sqlite-block-store.ts';
import { verifiedTree, verifyCommitBlock, type SyncBlockSource } from '../repo/verify.ts';

/**
 * Verifies a data directory at rest (a restored backup, or a stopped server's): the database
 * file, every repo's signed commit and tree, the record index and blob references against the
 * trees, every blob's bytes against its CID, and the sequencer log against the repo roots.
 * Nothing is written. The report lists what was checked and every mismatch found.
 */
export interface IntegrityReport {
  /** One line per area: what was checked and how it came out. */
  checked: string[];
  /** Mismatches: each names the repo, record, blob or event and what is wrong with it. */
  problems: string[];
  /** Facts worth knowing that are not damage (blobs an imported repo never received, pruned events). */
  notes: string[];
  counts: IntegrityCounts;
}

export interface IntegrityCounts {
  repos: number;
  nodes: number;
  records: number;
  indexRows: number;
  blobRefs: number;
  blobs: number;
  blobBytes: number;
  events: number;
}

export interface IntegrityOptions {
  dbFile: string;
  blobDir: string;
  /** Called as repos and blobs are checked. */
  onProgress?: (done: { repos: number; totalRepos: number; blobs: number; totalBlobs: number }) => void;
}

/** Mismatches listed per area before the rest are only counted. */
const MAX_LISTED = 50;

interface AccountRow {
  did: string;
  signing_key_did: string;
  arriving_at: string | null;
}

interface RootRow {
  did: string;
  cid: string;
  rev: string;
  data: string;
}

export async function verifyDataDir(options: IntegrityOptions): Promise<IntegrityReport> {
  const problems = new Problems();
  const notes: string[] = [];
  const checked: string[] = [];
  const counts: IntegrityCounts = { repos: 0, nodes: 0, records: 0, indexRows: 0, blobRefs: 0, blobs: 0, blobBytes: 0, events: 0 };
  // Two connections: one walks blocks, the other streams index rows beside it (a better-sqlite3
  // connection cannot run a statement while it iterates another).
  const db = new BetterSqlite3(options.dbFile, { readonly: true, fileMustExist: true });
  const side = new BetterSqlite3(options.dbFile, { readonly: true, fileMustExist: true });
  try {
    const quick = db.pragma('quick_check', { simple: true }) as string;
    if (quick !== 'ok') problems.add('database', `SQLite quick_check: ${quick}`);
    else checked.push('database: SQLite quick_check ok');

    const accounts = new Map((db.prepare('SELECT did, signing_key_did, arriving_at FROM account').all() as AccountRow[]).map((a) => [a.did, a]));
    const roots = db.prepare('SELECT did, cid, rev, data FROM repo_root ORDER BY did').all() as RootRow[];
    for (const did of accounts.keys()) if (!roots.some((r) => r.did === did)) problems.add('repos', `account ${did} has no repo`);
    const blocks = repoBlockReader(db);
    const recordBytes = hasRecordBytes(db);
    const referenced = new Map<string, Set<string>>();
    const totalRepos = roots.length;
    for (const root of roots) {
      const account = accounts.get(root.did);
      if (!account) {
        problems.add('repos', `repo ${root.did} has no account`);
        continue;
      }
      const refs = await verifyRepo(root, account, blocks, recordBytes, side, problems, notes, counts);
      referenced.set(root.did, refs);
      counts.repos++;
      options.onProgress?.({ repos: counts.repos, totalRepos, blobs: 0, totalBlobs: 0 });
    }
    checked.push(
      `repos: ${counts.repos} commits signed by their account's key, ${counts.nodes} MST nodes and ${counts.records} records walked, every block matching its CID`,
      `record index: ${counts.indexRows} rows compared with the repo trees`,
    );

    await verifyBlobs(db, new DiskBlobStore(options.blobDir), referenced, problems, notes, counts, options.onProgress, totalRepos);
    checked.push(`blobs: ${counts.blobRefs} references compared with the blob tables, ${counts.blobs} files (${counts.blobBytes} bytes) hashed against their CIDs`);

    verifySequencer(side, roots, accounts, problems, notes, counts);
    checked.push(`sequencer: ${counts.events} events read, each repo's latest commit event compared with its root`);
  } finally {
    db.close();
    side.close();
  }
  return { checked, problems: problems.lines(), notes, counts };
}

async function verifyRepo(
  root: RootRow,
  account: AccountRow,
  blocks: (did: string, cid: string) => Uint8Array | undefined,
  /** Whether each record's row holds its block (migration 14), to be hashed against its CID. */
  recordBytes: boolean,
  side: BetterSqlite3.Database,
  problems: Problems,
  notes: string[],
  counts: IntegrityCounts,
): Promise<Set<string>> {
  const did = root.did;
  const refs = new Set<string>();
  // Every block read is hashed and compared with the CID it is stored under.
  let badBlock: string | undefined;
  const source: SyncBlockSource = {
    get(cid) {
      const bytes = blocks(did, cid);
      if (bytes !== undefined && !cidMatchesBytes(parseCid(cid), bytes)) {
        badBlock = cid;
        throw new Error(`block ${cid} does not match its CID (the bytes are corrupt)`);
      }
      return bytes;
    },
  };
  const index = side
    .prepare(`SELECT collection || '/' || rkey AS path, cid${recordBytes ? ', bytes' : ''} FROM record WHERE did = ? ORDER BY path`)
    .raw()
    .iterate(did) as IterableIterator<[string, string, Uint8Array | null | undefined]>;
  const recordBlobs = recordBlobRows(side, did);
  try {
    let commit;
    try {
      commit = await verifyCommitBlock(source.get(root.cid), parseCid(root.cid), { did, didKey: account.signing_key_did });
    } catch (err) {
      if (badBlock || !account.arriving_at) throw err;
      notes.push(`repo ${did}: its commit is not signed by the account's key; the account is arriving by migration (the head is re-signed at activation)`);
      commit = decodeCommit(source.get(root.cid)!);
    }
    if (commit.rev !== root.rev) problems.add('repos', `repo ${did}: commit rev ${commit.rev} is not the stored root's rev ${root.rev}`);
    if (cidToString(commit.data) !== root.data) problems.add('repos', `repo ${did}: commit data ${cidToString(commit.data)} is not the stored root's MST ${root.data}`);
    let next = index.next();
    for (const block of verifiedTree(source, commit.data)) {
      if (block.kind === 'node') {
        counts.nodes++;
        continue;
      }
      counts.records++;
      // Merge-join with the record index (both in byte order of the path).
      while (!next.done && next.value[0] < block.path) {
        problems.add('index', `record index of ${did} has ${next.value[0]}, which the repo does not`);
        counts.indexRows++;
        next = index.next();
      }
      if (next.done || next.value[0] !== block.path) {
        problems.add('index', `record index of ${did} lacks ${block.path}`);
      } else {
        if (next.value[1] !== block.cid) problems.add('index', `record index of ${did} has ${block.path} at ${next.value[1]}, the repo at ${block.cid}`);
        // the row's own block (the tree's walk read one row's block of that CID, maybe another's)
        const own = next.value[2];
        if (recordBytes && (own == null || !cidMatchesBytes(parseCid(next.value[1]), own))) {
          problems.add('index', `record index of ${did} has ${block.path} ${own == null ? 'without its block' : 'with a block that does not match its CID'}`);
        }
        counts.indexRows++;
        next = index.next();
      }
      const found = new Set(findBlobRefs(block.value).map((ref) => ref.cid));
      const stored = recordBlobs.get(block.path) ?? new Set<string>();
      recordBlobs.delete(block.path);
      for (const cid of found) {
        refs.add(cid);
        counts.blobRefs++;
        if (!stored.has(cid)) problems.add('blobs', `record ${did}/${block.path} references blob ${cid}, which the blob reference table lacks`);
      }
      for (const cid of stored) if (!found.has(cid)) problems.add('blobs', `blob reference table ties ${cid} to ${did}/${block.path}, which does not reference it`);
    }
    for (; !next.done; next = index.next()) {
      problems.add('index', `record index of ${did} has ${next.value[0]}, which the repo does not`);
      counts.indexRows++;
    }
    for (const path of recordBlobs.keys()) problems.add('blobs', `blob reference table names record ${did}/${path}, which the repo does not have`);
  } catch (err) {
    problems.add('repos', `repo ${did}: ${(err as Error).message}`);
  } finally {
    index.return?.();
  }
  return refs;
}

function recordBlobRows(side: BetterSqlite3.Database, did: string): Map<string, Set<string>> {
  const rows = side.prepare("SELECT collection || '/' || rkey AS path, blob_cid FROM record_blob WHERE did = ?").raw().all(did) as Array<[string, string]>;
  const byPath = new Map<string, Set<string>>();
  for (const [path, cid] of rows) {
    let set = byPath.get(path);
    if (!set) byPath.set(path, (set = new Set()));
    set.add(cid);
  }
  return byPath;
}

interface BlobRow {
  did: string;
  cid: string;
  size: number;
  temp: number;
}

async function verifyBlobs(
  db: BetterSqlite3.Database,
  store: DiskBlobStore,
  referenced: Map<string, Set<string>>,
  problems: Problems,
  notes: string[],
  counts: IntegrityCounts,
  onProgress: IntegrityOptions['onProgress'],
  totalRepos: number,
): Promise<void> {
  const rows = db.prepare('SELECT did, cid, size, temp FROM blob').all() as BlobRow[];
  const known = new Set(rows.map((r) => `${r.did} ${r.cid}`));
  let neverUploaded = 0;
  for (const [did, cids] of referenced) {
    for (const cid of cids) if (!known.has(`${did} ${cid}`)) neverUploaded++;
  }
  if (neverUploaded > 0) notes.push(`${neverUploaded} referenced blobs were never uploaded to this server (imported repos: listMissingBlobs); not a backup problem`);
  let temporary = 0;
  for (const row of rows) {
    const isReferenced = referenced.get(row.did)?.has(row.cid) ?? false;
    if (isReferenced && row.temp) problems.add('blobs', `blob ${row.did} ${row.cid} is referenced but marked temporary`);
    const problem = await checkBlobFile(store, row);
    counts.blobs++;
    counts.blobBytes += row.size;
    if (problem) {
      if (row.temp && !isReferenced && problem.endsWith('missing')) temporary++;
      else problems.add('blobs', `blob ${row.did} ${row.cid}: ${problem}`);
    }
    if (counts.blobs % 100 === 0) onProgress?.({ repos: totalRepos, totalRepos, blobs: counts.blobs, totalBlobs: rows.length });
  }
  if (temporary > 0) notes.push(`${temporary} temporary uploads (referenced by no record) have no file; the server forgets them at their expiry`);
}

/** Checks a blob's file: present, of the recorded size, hashing to its CID. */
async function checkBlobFile(store: DiskBlobStore, row: BlobRow): Promise<string | undefined> {
  const cid = tryParseCid(row.cid);
  if (!cid) return 'not a valid CID';
  let handle;
  try {
    handle = await open(store.pathOf(row.did, row.cid), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'file missing';
    return `file unreadable: ${(err as Error).message}`;
  }
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
    if (size !== row.size) return `file is ${size} bytes, the blob table says ${row.size}`;
    if (!hash.digest().equals(cid.digest.contents)) return 'file does not match its CID (sha256 differs: the bytes are corrupt)';
    return undefined;
  } finally {
    await handle.close();
  }
}

interface EventRow {
  seq: number;
  did: string;
  event_type: string;
  event: Uint8Array;
}

/** Reads the whole log once, keeping each repo's latest commit or sync event, and checks it against the repo's root. */
function verifySequencer(side: BetterSqlite3.Database, roots: RootRow[], accounts: Map<string, AccountRow>, problems: Problems, notes: string[], counts: IntegrityCounts): void {
  const latest = new Map<string, { seq: number; rev: string; commit?: string }>();
  let previous = 0;
  for (const row of side.prepare('SELECT seq, did, event_type, event FROM repo_seq ORDER BY seq').iterate() as IterableIterator<EventRow>) {
    counts.events++;
    let body: Record<string, unknown>;
    try {
      body = decodeCbor(row.event) as Record<string, unknown>;
    } catch (err) {
      problems.add('sequencer', `event ${row.seq} is not valid DAG-CBOR: ${(err as Error).message}`);
      continue;
    }
    if (body.seq !== row.seq) problems.add('sequencer', `event ${row.seq} carries seq ${String(body.seq)}`);
    if (row.seq <= previous) problems.add('sequencer', `event ${row.seq} comes after ${previous}`);
    previous = row.seq;
    if (row.event_type === 'commit' || row.event_type === 'sync') {
      const commit = (body.commit as { $link?: string } | undefined)?.$link;
      latest.set(row.did, { seq: row.seq, rev: String(body.rev), commit });
    }
  }
  const sequence = side.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'repo_seq'").pluck().get() as number | undefined;
  if (previous > (sequence ?? 0)) problems.add('sequencer', `the sequence counter (${sequence ?? 0}) is behind the newest event (${previous}): seqs would be reused`);
  let pruned = 0;
  for (const root of roots) {
    const event = latest.get(root.did);
    if (!event) {
      pruned++;
      continue;
    }
    const matches = event.rev === root.rev && (event.commit === undefined || event.commit === root.cid);
    if (matches) continue;
    if (accounts.get(root.did)?.arriving_at) {
      notes.push(`repo ${root.did}: imported while arriving by migration; announced on the firehose at activation`);
      continue;
    }
    problems.add('sequencer', `repo ${root.did}: latest event ${event.seq} is rev ${event.rev}${event.commit ? ` commit ${event.commit}` : ''}, the repo root is rev ${root.rev} commit ${root.cid}`);
  }
  if (pruned > 0) notes.push(`${pruned} repos have no event left in the sequencer log (older events are pruned after the retention period)`);
}

/** Mismatches by area, the first MAX_LISTED of each listed. */
class Problems {
  readonly #byArea = new Map<string, { listed: string[]; more: number }>();

  add(area: string, line: string): void {
    let entry = this.#byArea.get(area);
    if (!entry) this.#byArea.set(area, (entry = { listed: [], more: 0 }));
    if (entry.listed.length < MAX_LISTED) entry.listed.push(line);
    else entry.more++;
  }

  lines(): string[] {
    const out: string[] = [];
    for (const [area, { listed, more }] of this.#byArea) {
      out.push(...listed);
      if (more > 0) out.push(`... and ${more} more ${area} problems`);
    }
    return out;
  }
}
