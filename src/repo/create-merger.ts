import type { PreparedWrite } from './prepare-write.ts';

/** At most this many writes in one merged commit: a firehose `#commit` event carries at most 200 ops. */
export const MERGE_MAX_WRITES = 200;
/** At most this many bytes of records in one merged commit, so that its event's CAR (records, tree nodes, commit) stays well under the 2,000,000 bytes an event may carry. */
export const MERGE_MAX_BYTES = 1_000_000;

/** What the merger needs of the write path. */
export interface MergeHost<R> {
  /** A write of `did` queued now would wait for the group after the running fsync anyway (a commit of the repo is queued, and an fsync is running). */
  waits(did: string): boolean;
  /** Resolves once the running fsync has ended: a commit queued from the continuation joins the next group. */
  idle(): Promise<void>;
  /** Commits `writes` as one commit and resolves once it is durable; calls `committed` as soon as its transaction has committed. */
  commit(did: string, writes: PreparedWrite[], committed: () => void): Promise<R>;
}

export interface MergeStats {
  commits: number;
  calls: number;
  fallbacks: number;
  waiting: number;
}

interface Member<R> {
  writes: PreparedWrite[];
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

interface Batch<R> {
  members: Member<R>[];
  writes: number;
  bytes: number;
}

/**
 * Merges creates of one repo that arrive while the repo already has a commit waiting for the
 * running fsync: none of them can be durable before the group after that fsync, so instead of one
 * signed commit each (a tree path, a commit block, a signature, a firehose event per call), they
 * become one commit with all their records, worked out once the fsync has ended, and every call
 * answers with that commit. Only creates without swaps merge (what RepoService calls chainable):
 * their outcome does not depend on what else the commit holds, except for a key created twice.
 *
 * If the merged commit fails before its transaction commits (a key two calls both create, a blob
 * one record names that is gone, ...), each call is committed again alone, so each gets its own
 * answer. A failure after the commit (the fsync) is every call's answer.
 *
 * Bounded: one open batch per repo with a queued commit, each at most MERGE_MAX_WRITES writes
 * and MERGE_MAX_BYTES bytes of records; a call that does not fit goes alone.
 */
export class CreateMerger<R> {
  readonly #host: MergeHost<R>;
  readonly #open = new Map<string, Batch<R>>();
  #stats = { commits: 0, calls: 0, fallbacks: 0 };

  constructor(host: MergeHost<R>) {
    this.#host = host;
  }

  /**
   * Merged commits made (of two calls or more), the calls they answered, merged commits that
   * failed and were committed again call by call, and calls waiting now in open batches.
   */
  get stats(): MergeStats {
    let waiting = 0;
    for (const batch of this.#open.values()) waiting += batch.members.length;
    return { ...this.#stats, waiting };
  }

  /** Joins `writes` (creates without swaps) to the repo's merged commit; undefined when they should be committed alone now. */
  join(did: string, writes: PreparedWrite[]): Promise<R> | undefined {
    if (writes.length === 0) return undefined;
    const bytes = recordBytes(writes);
    let batch = this.#open.get(did);
    if (batch !== undefined) {
      if (batch.writes + writes.length > MERGE_MAX_WRITES || batch.bytes + bytes > MERGE_MAX_BYTES) return undefined;
    } else {
      if (!this.#host.waits(did) || writes.length > MERGE_MAX_WRITES || bytes > MERGE_MAX_BYTES) return undefined;
      batch = { members: [], writes: 0, bytes: 0 };
      this.#open.set(did, batch);
      void this.#run(did, batch);
    }
    batch.writes += writes.length;
    batch.bytes += bytes;
    return new Promise<R>((resolve, reject) => batch.members.push({ writes, resolve, reject }));
  }

  async #run(did: string, batch: Batch<R>): Promise<void> {
    await this.#host.idle();
    this.#open.delete(did);
    const { members } = batch;
    if (members.length === 1) {
      this.#alone(did, members[0]);
      return;
    }
    let committed = false;
    try {
      const result = await this.#host.commit(did, members.flatMap((m) => m.writes), () => (committed = true));
      this.#stats.commits++;
      this.#stats.calls += members.length;
      for (const member of members) member.resolve(result);
    } catch (err) {
      if (committed) {
        for (const member of members) member.reject(err);
        return;
      }
      this.#stats.fallbacks++;
      for (const member of members) this.#alone(did, member);
    }
  }

  #alone(did: string, member: Member<R>): void {
    this.#host.commit(did, member.writes, () => {}).then(member.resolve, member.reject);
  }
}

function recordBytes(writes: PreparedWrite[]): number {
  let total = 0;
  for (const write of writes) if ('bytes' in write) total += write.bytes.length;
  return total;
}
