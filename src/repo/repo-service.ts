import { randomBytes } from 'node:crypto';
import { cidForCbor, cidToString, parseCid } from '../ipld/cid.ts';
import { NodeCache } from '../ipld/mst/index.ts';
import type { Keypair } from '../crypto/index.ts';
import { decodeCommit, signCommit, verifyCommitSignature } from './commit.ts';
import { RecordExistsError, RecordNotFoundError } from './errors.ts';
import { nextTidAfter } from './tid.ts';
import type { PreparedWrite } from './prepare-write.ts';
import { PendingCommits } from './pending-commits.ts';
import { CreateMerger, type MergeStats } from './create-merger.ts';
import { SqliteBlockStore } from './sqlite-block-store.ts';
import { commitEvent } from './commit-event.ts';
import { applyWriteBatch, type WriteBatchResult } from './write-batch.ts';
import type { RecordBlobHooks, RecordPage, ReplacementRepo, RepoRoot, RepoServiceDeps, StoredRecord, WriteOptions, WriteOutcome } from './repo-types.ts';
import { RepoWriteError } from './write-errors.ts';

export type { RecordBlobHooks, RecordPage, ReplacementRepo, RepoRoot, RepoServiceDeps, StoredRecord, WriteOptions, WriteOutcome } from './repo-types.ts';

const NODE_CACHE_REPOS = 256;
/** A write whose base failed is retried from the database; the retry cannot meet a failed base. */
const MAX_ATTEMPTS = 3;

/** A commit handed to the group committer: what it is, and when it is durable (the blobs it left unreferenced). */
interface QueuedWrite {
  result: WriteBatchResult;
  durable: Promise<string[]>;
}

/** A commit found the repo's root moved from the head it was made over (a queued base failed, or a kept head was stale). */
class StaleHeadError extends Error {
  override name = 'StaleHeadError';
  constructor(did: string) {
    super(`the head of ${did} moved from the one a commit was made over`);
  }
}

/** In #opCids: the commit has several ops on this path (created and changed or deleted in one applyWrites). */
const WRITTEN_AGAIN = 'written-again';

/**
 * The durable write path. A write takes the repo's lock, computes the signed commit (a pure
 * step over the stored blocks), then hands one synchronous function to the group committer,
 * which stores blocks, drops orphans, updates the record index and the root, and appends the
 * firehose event, all in the same transaction. The caller hears back only after COMMIT.
 */
export class RepoService {
  readonly #deps: RepoServiceDeps;
  readonly #caches = new Map<string, NodeCache>();
  readonly #pending = new PendingCommits();
  readonly #merger: CreateMerger<WriteBatchResult | undefined>;
  /** See #opCids: held only as long as the commit's result is. */
  readonly #cidsByCommit = new WeakMap<WriteBatchResult, Map<string, string | undefined>>();
  #restarts = 0;

  constructor(deps: RepoServiceDeps) {
    this.#deps = deps;
    this.#merger = new CreateMerger({
      waits: (did) => deps.committer.syncing && this.#pending.settled(did) !== undefined,
      idle: () => deps.committer.idle(),
      commit: (did, writes, committed) => this.#commit(did, writes, {}, true, committed),
    });
  }

  rootOrUndefined(did: string): RepoRoot | undefined {
    return this.#deps.db.prepare('SELECT cid, rev FROM repo_root WHERE did = ?').get(did) as RepoRoot | undefined;
  }

  root(did: string): RepoRoot {
    const root = this.rootOrUndefined(did);
    if (!root) throw new RepoWriteError('RepoNotFound', `Could not find repo: ${did}`);
    return root;
  }

  /** The root with its MST root CID, as a write starts from it. */
  #head(did: string): RepoRoot & { data: string } {
    const head = this.#deps.db.prepare('SELECT cid, rev, data FROM repo_root WHERE did = ?').get(did) as (RepoRoot & { data: string }) | undefined;
    if (!head) throw new RepoWriteError('RepoNotFound', `Could not find repo: ${did}`);
    return head;
  }

  /** Writes that started over from the database because a queued commit they were made over failed. */
  get restarts(): number {
    return this.#restarts;
  }

  hasRepo(did: string): boolean {
    return this.rootOrUndefined(did) !== undefined;
  }

  blockStore(did: string): SqliteBlockStore {
    return new SqliteBlockStore(this.#deps.db.handle, did);
  }

  /**
   * The first commit of a new repo, stored together with `alsoInTx` (e.g. the account row and
   * its identity/account events) in one transaction. `announce: false` leaves out its `#commit`
   * event (an account arriving by migration: its DID is still hosted elsewhere).
   */
  async createRepo(did: string, keypair: Keypair, alsoInTx: () => void = () => {}, opts: { announce?: boolean } = {}): Promise<RepoRoot> {
    return this.#exclusive(did, async () => {
      const result = await applyWriteBatch({ did, keypair, prev: null, blocks: this.blockStore(did), writes: [], recordsStoredApart: true });
      await this.#deps.committer.run(() => {
        alsoInTx();
        this.#applyInTx(result, [], { announce: opts.announce ?? true });
      });
      this.#deps.firehose.notify();
      return { cid: cidToString(result.cid), rev: result.rev };
    });
  }

  /**
   * Applies `writes` as one commit. The repo's lock covers only working the commit out and queueing
   * it: the next write of the repo starts while this one waits for its group's fsync. A write
   * made only of creates (createRecord, applyWrites of creates) may start from a commit still in
   * the queue (see PendingCommits); any other write first waits for the queue to settle, since it
   * reads the record index. Such a write that arrives while the repo has a commit waiting for the
   * running fsync may instead share one commit with the others that arrive meanwhile (see
   * CreateMerger); each call's answer has that commit, and its own records. Answers once the
   * commit is durable.
   */
  async applyWrites(did: string, writes: PreparedWrite[], opts: WriteOptions = {}): Promise<WriteOutcome> {
    const chainable = opts.swapCommit === undefined && writes.every((w) => w.action === 'create' && (w.swapRecord === undefined || w.swapRecord === null));
    const result = await ((chainable ? this.#merger.join(did, writes) : undefined) ?? this.#commit(did, writes, opts, chainable));
    if (result === undefined) return { commit: undefined, results: writes.map(() => ({ uri: '' })) };
    // a merged commit holds other calls' writes too: each answers for its own
    const cids = this.#opCids(result);
    return {
      commit: { cid: cidToString(result.cid), rev: result.rev },
      results: writes.map((w) => {
        const path = `${w.collection}/${w.rkey}`;
        const known = cids.get(path);
        // a path the commit wrote more than once: this write's own record, not the last one's
        const cid = w.action === 'delete' ? undefined : known === WRITTEN_AGAIN ? cidToString(cidForCbor(w.bytes)) : known;
        return { uri: `at://${did}/${path}`, cid };
      }),
    };
  }

  /**
   * Each op's path and record CID (WRITTEN_AGAIN for a path with several ops); made once per
   * commit, which the calls merged into it share.
   */
  #opCids(result: WriteBatchResult): Map<string, string | undefined> {
    let cids = this.#cidsByCommit.get(result);
    if (cids === undefined) {
      cids = new Map();
      for (const op of result.ops) cids.set(op.path, cids.has(op.path) ? WRITTEN_AGAIN : op.cid ? cidToString(op.cid) : undefined);
      this.#cidsByCommit.set(result, cids);
    }
    return cids;
  }

  /** Commits made of several calls' creates (see CreateMerger). */
  get merges(): MergeStats {
    return this.#merger.stats;
  }

  /**
   * Commits `writes` as one commit and resolves once it is durable and its aftermath (firehose,
   * crawl requests, blobs it left unreferenced) is done; undefined when there was nothing to
   * write. `committed` hears as soon as the commit's transaction has committed.
   */
  async #commit(did: string, writes: PreparedWrite[], opts: WriteOptions, chainable: boolean, committed?: () => void): Promise<WriteBatchResult | undefined> {
    for (let attempt = 1; ; attempt++) {
      // a retry starts from the database: whatever it had started from failed
      let queued: QueuedWrite | undefined;
      try {
        queued = await this.#deps.locks.run(did, () => this.#queueWrites(did, writes, opts, chainable && attempt === 1, attempt > 1, committed));
      } catch (err) {
        if (err instanceof StaleHeadError && attempt < MAX_ATTEMPTS) {
          this.#restarts++;
          continue;
        }
        throw err;
      }
      if (queued === undefined) return undefined;
      let unreferenced: string[];
      try {
        unreferenced = await queued.durable;
      } catch (err) {
        if (err instanceof StaleHeadError && attempt < MAX_ATTEMPTS) {
          this.#restarts++;
          continue;
        }
        throw err;
      }
      const deps = this.#deps;
      deps.firehose.notify();
      deps.afterCommit?.();
      if (unreferenced.length > 0 && deps.blobs) await deps.blobs.deleteUnreferenced(did, unreferenced);
      return queued.result;
    }
  }

  /** Runs `fn` under the repo's lock once every commit queued for the repo has settled: for what reads or replaces the whole repo. */
  #exclusive<T>(did: string, fn: () => Promise<T>): Promise<T> {
    return this.#deps.locks.run(did, async () => {
      await this.#pending.settled(did);
      return fn();
    });
  }

  /** Under the repo's lock: works out the commit and queues it. Undefined when nothing is to be written. */
  async #queueWrites(
    did: string,
    writes: PreparedWrite[],
    opts: WriteOptions,
    chain: boolean,
    fresh: boolean,
    committed?: () => void,
  ): Promise<QueuedWrite | undefined> {
    const deps = this.#deps;
    const pending = this.#pending;
    let root = chain ? pending.head(did) : undefined;
    /** Whether `root` is the head PendingCommits kept, unchecked against the database. */
    let kept = false;
    if (root === undefined) {
      await pending.settled(did);
      // The head the last committed write left (one read of the database less), unless this is a
      // retry, or the write compares the head (its InvalidSwap must be the database's answer).
      const committed = fresh || opts.swapCommit !== undefined ? undefined : pending.committedHead(did);
      kept = committed !== undefined;
      root = committed ?? this.#head(did);
    }
    if (opts.swapCommit !== undefined && opts.swapCommit !== root.cid) {
      throw new RepoWriteError('InvalidSwap', `Commit was at ${root.cid}`);
    }
    const effective: PreparedWrite[] = [];
    for (const write of writes) {
      // A create needs nothing of the record's current state: adding the key to the tree refuses
      // a key already there, or created by a queued commit this one starts from (RecordExists,
      // the same 409 InvalidSwap as a failed swap). One index search less per create.
      if (write.action === 'create' && (write.swapRecord === undefined || write.swapRecord === null)) {
        effective.push(write);
        continue;
      }
      // a create that a queued commit makes is there already, as far as this write is concerned
      const queuedCid = chain ? pending.created(did, `${write.collection}/${write.rkey}`) : undefined;
      const current = queuedCid !== undefined ? { cid: queuedCid } : deps.records.get(did, write.collection, write.rkey);
      if (write.swapRecord !== undefined && (current?.cid ?? null) !== write.swapRecord) {
        throw new RepoWriteError('InvalidSwap', `Record was at ${current?.cid ?? 'null'}`);
      }
      if (write.action === 'update' && !current && opts.upsert) {
        effective.push({ ...write, action: 'create' });
      } else if (write.action === 'delete' && !current && opts.ignoreMissingDelete) {
        continue;
      } else {
        effective.push(write);
      }
    }
    if (effective.length === 0) return undefined;
    const keypair = deps.keys.get(did);
    if (!keypair) throw new RepoWriteError('RepoNotFound', `No signing key for ${did}`);
    // From here the write will reach the committer: let the current group wait for it.
    const arrived = deps.committer.announce();
    let result: WriteBatchResult;
    try {
      result = await applyWriteBatch({
        did,
        // The async path: a key whose signing is slow (secp256k1 on OpenSSL) signs on the
        // thread pool, so the event loop serves other writers meanwhile; libsecp256k1 signs in place.
        keypair: { sign: (msg) => keypair.sign(msg) },
        prev: { cid: root.cid, rev: root.rev, data: root.data },
        blocks: pending.overlay(did, this.blockStore(did)),
        writes: effective.map((w) => ({ action: w.action, collection: w.collection, rkey: w.rkey, record: 'record' in w ? w.record : undefined, bytes: 'bytes' in w ? w.bytes : undefined })),
        cache: this.#cacheFor(did),
        // records' blocks live in their rows of the record index, and go with them
        recordsStoredApart: true,
      });
    } catch (err) {
      arrived();
      // Worked out over a kept head that is no longer the root, the answer may be wrong (a key
      // missing or present, a block gone): start over from the database instead.
      if (kept && this.rootOrUndefined(did)?.cid !== root.cid) {
        pending.forgetHead(did);
        throw new StaleHeadError(did);
      }
      if (err instanceof RecordExistsError) throw new RepoWriteError('RecordExists', `Record already exists: ${err.path}`);
      if (err instanceof RecordNotFoundError) throw new RepoWriteError('RecordNotFound', `Could not find record: ${err.path}`);
      throw err;
    }
    const base = root.cid;
    const settledInPending = pending.add(did, {
      head: { cid: cidToString(result.cid), rev: result.rev, data: cidToString(result.commit.data) },
      blocks: result.newBlocks,
      created: new Map(result.ops.filter((op) => op.action === 'create').map((op) => [op.path, cidToString(op.cid!)])),
    });
    const settled = committed === undefined ? settledInPending : (ok: boolean) => {
      settledInPending(ok);
      if (ok) committed();
    };
    // the commit is over `base`: if the repo moved meanwhile (a queued commit it started from failed), start over
    const durable = deps.committer.run(() => this.#applyInTx(result, effective, { base }), settled, { rerunnable: true }); // the commit's changes are all in the database
    arrived();
    return { result, durable };
  }

  /**
   * Synchronous, inside the group transaction: everything a commit changes, or nothing. With
   * `base`, the commit is made over that head, and the root moves from it to the new commit in
   * one compare-and-set (StaleHeadError when the root is no longer at `base`); without, the root
   * is set (a new repo).
   */
  #applyInTx(result: WriteBatchResult, writes: PreparedWrite[], opts: { announce?: boolean; base?: string } = {}): string[] {
    const { records, sequencer, blobs } = this.#deps;
    const did = result.did;
    const store = this.blockStore(did);
    const now = new Date().toISOString();
    const root = { cid: cidToString(result.cid), rev: result.rev, data: cidToString(result.commit.data) };
    if (opts.base === undefined) this.#setRoot(did, root, now);
    else if (!this.#advanceRoot(did, opts.base, root, now)) throw new StaleHeadError(did);
    store.deleteMany(result.orphaned);
    store.putMany(result.newBlocks, result.rev);
    let unreferenced: string[] = [];
    for (const op of result.ops) {
      const slash = op.path.indexOf('/');
      const collection = op.path.slice(0, slash);
      const rkey = op.path.slice(slash + 1);
      if (op.action === 'delete') {
        records.delete(did, collection, rkey);
      } else {
        const cid = cidToString(op.cid!);
        records.put(did, collection, rkey, cid, result.recordBlocks.get(cid)!, result.rev, now);
      }
    }
    if (blobs) {
      for (const write of writes) {
        // a create's path held no record, so no blob references to look up
        const freed = blobs.applyRecordBlobs(did, `at://${did}/${write.collection}/${write.rkey}`, write.action === 'delete' ? [] : write.blobs, { created: write.action === 'create' });
        if (freed.length > 0) unreferenced = unreferenced.concat(freed);
      }
    }
    if (opts.announce ?? true) sequencer.append(did, 'commit', commitEvent(result), now);
    return unreferenced;
  }

  /**
   * Replaces a repo wholesale (an import) under its lock, in one durable transaction:
   * `opts.beforeWrite` first (a last check of the account), then the old blocks, records and
   * blob references go and the new ones come, with the new root, then `opts.afterWrite` (events
   * of a live account). Nothing is sequenced here. With `opts.resign` the head becomes a new
   * commit over the imported tree, signed with the account's key and with a rev after both the
   * imported one and the repo's current one (a live account's followers need a newer rev).
   * Returns how many blocks were stored and the head.
   */
  async replaceRepo(
    did: string,
    repo: ReplacementRepo,
    opts: { beforeWrite?: () => void; resign?: boolean; afterWrite?: (head: RepoRoot) => void } = {},
  ): Promise<{ blocks: number; head: RepoRoot }> {
    const { db, records, blobs, committer, keys, firehose } = this.#deps;
    const stored = await this.#exclusive(did, async () => {
      let resigned: { root: RepoRoot & { data: string }; bytes: Uint8Array } | undefined;
      if (opts.resign) {
        const keypair = keys.get(did);
        if (!keypair) throw new RepoWriteError('RepoNotFound', `No signing key for ${did}`);
        const current = this.rootOrUndefined(did)?.rev;
        const after = current !== undefined && current > repo.root.rev ? current : repo.root.rev;
        const signed = await signCommit({ did, data: parseCid(repo.root.data), rev: nextTidAfter(after) }, keypair);
        resigned = { root: { cid: cidToString(signed.cid), rev: signed.commit.rev, data: repo.root.data }, bytes: signed.bytes };
      }
      let unreferenced: string[] = [];
      const alias = `import_${randomBytes(6).toString('hex')}`;
      const queries = repo.staged.queries(alias);
      const result = await db.withAttached(repo.staged.file, alias, () => committer.run(() => {
        opts.beforeWrite?.();
        const now = new Date().toISOString();
        const root = resigned?.root ?? repo.root;
        db.prepare('DELETE FROM repo_block WHERE did = ?').run(did);
        records.deleteAll(did);
        const store = this.blockStore(did);
        const blocks = store.putAllFrom(queries.blocks, root.rev);
        if (resigned) {
          store.deleteMany([repo.root.cid]);
          store.putMany([[root.cid, resigned.bytes]], root.rev);
        }
        records.putAllFrom(did, queries.records, root.rev, now);
        if (blobs?.replaceImportedRefs) unreferenced = blobs.replaceImportedRefs(did, repo.blobRefs());
        this.#setRoot(did, root, now);
        const head = { cid: root.cid, rev: root.rev };
        opts.afterWrite?.(head);
        return { blocks: blocks + records.blockCount(did), head };
      }));
      this.#caches.delete(did);
      if (unreferenced.length > 0 && blobs) await blobs.deleteUnreferenced(did, unreferenced);
      return result;
    });
    if (opts.afterWrite) firehose.notify();
    return stored;
  }

  /**
   * Makes the head a commit signed with the account's current key: an imported repo arrives
   * signed by the key of the PDS it came from, and must verify against the key its DID document
   * names once the account is live here. The new commit is over the same tree, with a new rev,
   * stored in place of the old commit block. A head the key already verifies is kept unless
   * `force` (a fresh rev is wanted). `alsoInTx` runs in the same transaction with the head as it
   * is then (e.g. activation's state change and events).
   */
  async resignHead<T>(did: string, alsoInTx: (head: RepoRoot) => T, opts: { force?: boolean } = {}): Promise<T> {
    const { keys, committer, firehose } = this.#deps;
    const result = await this.#exclusive(did, async () => {
      const head = this.#head(did);
      const keypair = keys.get(did);
      if (!keypair) throw new RepoWriteError('RepoNotFound', `No signing key for ${did}`);
      const store = this.blockStore(did);
      const bytes = store.get(head.cid);
      if (!bytes) throw new Error(`commit block ${head.cid} of ${did} is missing`);
      const current = decodeCommit(bytes);
      if (!opts.force && current.did === did && (await verifyCommitSignature(current, keypair.did()))) {
        return committer.run(() => alsoInTx({ cid: head.cid, rev: head.rev }));
      }
      const signed = await signCommit({ did, data: parseCid(head.data), rev: nextTidAfter(head.rev) }, keypair);
      const root = { cid: cidToString(signed.cid), rev: signed.commit.rev, data: head.data };
      return committer.run(() => {
        store.putMany([[root.cid, signed.bytes]], root.rev);
        store.deleteMany([head.cid]);
        this.#setRoot(did, root, new Date().toISOString());
        return alsoInTx({ cid: root.cid, rev: root.rev });
      });
    });
    firehose.notify();
    return result;
  }

  // Every statement that writes `repo_root` is in #advanceRoot, #setRoot or deleteRepoInTx; each drops the committed head PendingCommits keeps.

  /** Moves the root from `base` to `root`; false (nothing changed) when it is no longer at `base`. */
  #advanceRoot(did: string, base: string, root: RepoRoot & { data: string }, now: string): boolean {
    this.#pending.forgetHead(did);
    const moved = this.#deps.db
      .prepare('UPDATE repo_root SET cid = ?, rev = ?, data = ?, indexed_at = ? WHERE did = ? AND cid = ?')
      .run(root.cid, root.rev, root.data, now, did, base);
    return moved.changes === 1;
  }

  #setRoot(did: string, root: RepoRoot & { data: string }, now: string): void {
    this.#pending.forgetHead(did);
    this.#deps.db
      .prepare(
        `INSERT INTO repo_root (did, cid, rev, data, indexed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (did) DO UPDATE SET cid = excluded.cid, rev = excluded.rev, data = excluded.data, indexed_at = excluded.indexed_at`,
      )
      .run(did, root.cid, root.rev, root.data, now);
  }

  /** A record as stored (its DAG-CBOR block), if it exists (and has CID `cid`, when given). */
  getRecord(did: string, collection: string, rkey: string, cid?: string): StoredRecord {
    const row = this.#deps.records.getWithBytes(did, collection, rkey);
    if (!row || (cid !== undefined && row.cid !== cid)) {
      throw new RepoWriteError('RecordNotFound', `Could not locate record: at://${did}/${collection}/${rkey}`);
    }
    return { uri: `at://${did}/${collection}/${rkey}`, cid: row.cid, bytes: row.bytes };
  }

  /** One page of a collection's records as stored; `cursor` when there are more. */
  listRecords(did: string, collection: string, opts: { limit: number; cursor?: string; reverse: boolean }): RecordPage {
    const rows = this.#deps.records.list(did, collection, { limit: opts.limit + 1, cursor: opts.cursor, reverse: opts.reverse });
    if (rows.length <= opts.limit) return { did, collection, records: rows };
    const records = rows.slice(0, opts.limit);
    return { did, collection, records, cursor: records[records.length - 1].rkey };
  }

  collections(did: string): string[] {
    return this.#deps.records.collections(did);
  }

  /**
   * Deletes everything of a repo: blocks, record index, root and private preferences. Runs in
   * the caller's transaction (account deletion appends its `#account` event in the same one).
   */
  deleteRepoInTx(did: string): void {
    const { db } = this.#deps;
    db.prepare('DELETE FROM repo_block WHERE did = ?').run(did);
    db.prepare('DELETE FROM record WHERE did = ?').run(did);
    db.prepare('DELETE FROM repo_root WHERE did = ?').run(did);
    db.prepare('DELETE FROM account_pref WHERE did = ?').run(did);
    this.#caches.delete(did);
    this.#pending.forgetHead(did);
  }

  /** Deletes a repo under its lock, in one durable transaction with `alsoInTx`. */
  async deleteRepo(did: string, alsoInTx: () => void = () => {}): Promise<void> {
    await this.#exclusive(did, async () => {
      await this.#deps.committer.run(() => {
        this.deleteRepoInTx(did);
        alsoInTx();
      });
    });
    this.#deps.firehose.notify();
  }

  #cacheFor(did: string): NodeCache {
    let cache = this.#caches.get(did);
    if (cache) {
      this.#caches.delete(did);
      this.#caches.set(did, cache);
      return cache;
    }
    cache = new NodeCache(2048);
    if (this.#caches.size >= NODE_CACHE_REPOS) this.#caches.delete(this.#caches.keys().next().value!);
    this.#caches.set(did, cache);
    return cache;
  }
}
