import type { BlockSource } from '../ipld/mst/index.ts';

export interface RepoHead {
  cid: string;
  rev: string;
  /** The MST root. */
  data: string;
}

/** One commit handed to the group committer and not yet settled (committed or failed). */
interface Queued {
  head: RepoHead;
  /** The blocks it adds: a commit started from its head reads its new MST nodes here. */
  blocks: ReadonlyMap<string, Uint8Array>;
  /** Record paths it creates, with their CIDs. */
  created: ReadonlyMap<string, string>;
}

interface Chain {
  /** Oldest first; the committer settles them in this order. */
  queued: Queued[];
  /** A queued commit failed: the heads after it will never be the repo's, so nothing may start from them. */
  broken: boolean;
  settled: Promise<void>;
  resolve: () => void;
}

const NOTHING_QUEUED: readonly Queued[] = [];

/**
 * A repo's blocks as a commit starting from its newest queued head sees them: the queued commits'
 * new blocks (newest first), then the store. One class whether or not anything is queued, so the
 * write path always gets a block source of the same shape: when it got the store itself for some
 * repos and a plain object for others, V8 threw away the optimized code of the whole write step.
 */
class QueuedBlocks implements BlockSource {
  constructor(
    /** The chain's own array: commits queued or settled later show here too. */
    private readonly queued: readonly Queued[],
    private readonly store: BlockSource,
  ) {}

  get(cid: string): ReturnType<BlockSource['get']> {
    for (let i = this.queued.length - 1; i >= 0; i--) {
      const bytes = this.queued[i].blocks.get(cid);
      if (bytes !== undefined) return bytes;
    }
    return this.store.get(cid);
  }
}

/** Repos whose last committed head is kept (see `committedHead`): ~200 bytes each. */
const COMMITTED_HEADS = 4096;

/**
 * The commits of each repo that the group committer has queued but not yet applied. A create
 * need not wait for the commit before it to reach the database: it may start from that commit's
 * head (its tree, its rev), so several commits of one repo can join one transaction and the next
 * write's signing and hashing overlap the previous group's fsync. Whatever starts from a queued
 * head is checked again inside the transaction (the repo's root must still be the head it
 * started from; see RepoService), so a predecessor that fails only sends its successors back to
 * start over from the database.
 *
 * Bounded by the writes in flight: each queued commit is dropped as soon as it settles.
 *
 * It also keeps the head each repo's last write committed (`committedHead`, for up to
 * COMMITTED_HEADS repos, least recently written first out), so that a write with nothing queued
 * before it need not read the repo's root from the database. The head is kept when its
 * transaction commits, which is when a reader of the database would first see it, and dropped
 * whenever anything else writes the root (`forgetHead`, which the repo service calls from every
 * statement that writes `repo_root`). The server is the only writer of its database (admin
 * tools call its API, a restore refuses a live directory), so the head is the root; should it
 * not be, the write path finds out and starts over from the database: inside the transaction
 * (the root must be the head the commit was made over, as for queued heads), and when working
 * out a commit over a kept head fails (a record or block the head's tree lacks).
 */
export class PendingCommits {
  readonly #chains = new Map<string, Chain>();
  readonly #committed = new Map<string, RepoHead>();

  /** The head a new commit of `did` may start from, or undefined: read the database (after `settled`). */
  head(did: string): RepoHead | undefined {
    const chain = this.#chains.get(did);
    if (chain === undefined || chain.broken) return undefined;
    return chain.queued[chain.queued.length - 1].head;
  }

  /** The head the last committed write of `did` left, if known: what the database's root is, with nothing queued. */
  committedHead(did: string): RepoHead | undefined {
    return this.#committed.get(did);
  }

  /** Something other than a queued commit wrote (or is writing) the root of `did`: read the database next time. */
  forgetHead(did: string): void {
    this.#committed.delete(did);
  }

  #keepHead(did: string, head: RepoHead): void {
    this.#committed.delete(did); // re-inserted last: the map's order is the eviction order
    if (this.#committed.size >= COMMITTED_HEADS) this.#committed.delete(this.#committed.keys().next().value!);
    this.#committed.set(did, head);
  }

  /** Resolves once every queued commit of `did` has settled; undefined when none is in flight. */
  settled(did: string): Promise<void> | undefined {
    return this.#chains.get(did)?.settled;
  }

  /** The CID of the record a queued commit creates at `path`, if one does. */
  created(did: string, path: string): string | undefined {
    const chain = this.#chains.get(did);
    if (chain === undefined) return undefined;
    for (let i = chain.queued.length - 1; i >= 0; i--) {
      const cid = chain.queued[i].created.get(path);
      if (cid !== undefined) return cid;
    }
    return undefined;
  }

  /** `store` seen through the blocks of the repo's queued commits (newest first). */
  overlay(did: string, store: BlockSource): BlockSource {
    return new QueuedBlocks(this.#chains.get(did)?.queued ?? NOTHING_QUEUED, store);
  }

  /** Registers a commit just queued; returns what the committer calls when it settles. */
  add(did: string, queued: Queued): (committed: boolean) => void {
    let chain = this.#chains.get(did);
    if (chain === undefined) {
      let resolve!: () => void;
      const settled = new Promise<void>((r) => (resolve = r));
      chain = { queued: [], broken: false, settled, resolve };
      this.#chains.set(did, chain);
    }
    chain.queued.push(queued);
    const current = chain;
    return (committed) => {
      current.queued.shift();
      if (committed) {
        // its transaction set the root to this head (commits of a repo settle in the order they were applied)
        this.#keepHead(did, queued.head);
      } else {
        current.broken = true;
        this.forgetHead(did);
      }
      if (current.queued.length === 0) {
        this.#chains.delete(did);
        current.resolve();
      }
    };
  }
}
