import { statSync } from 'node:fs';
import type * as Prom from 'prom-client';
import { Counter, Gauge, Registry } from './prom.ts';
import type { Database } from '../db/index.ts';
import type { CommitObserver } from '../repo/group-commit.ts';
import { LabelledHistogram, type HistogramChild } from './histogram.ts';
import { processRegistry } from './process-metrics.ts';
import { RequestMetrics } from './request-metrics.ts';

export interface MetricsSources {
  db: Database;
  firehose: { stats(): { subscribers: number; oldestLag: number; eventsRead: number; framesSent: number }; readonly head: number };
  /** How long storage counts (accounts, blobs, bytes) are cached when nothing is written: counting is a table scan. */
  countsTtlMs?: number;
}

/** Distinct upstream services given their own label; more share `other` (a proxy target is caller-chosen). */
const MAX_UPSTREAMS = 32;
const STATUS_CLASSES = ['error', '1xx', '2xx', '3xx', '4xx', '5xx'];

/** The repo write path's counters (RepoService.restarts and .merges). */
export interface RepoWriteCounts {
  restarts: number;
  mergedCommits: number;
  mergedCalls: number;
}

/**
 * Every metric of one server, in its own prom-client Registry (plus the process metrics at
 * scrape time). Hot-path metrics (requests, the write path) are plain numbers updated in place;
 * gauges that cost a query are read at scrape time and counts are cached.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new RequestMetrics();
  /** The write path's hooks, for GroupCommitter.observe. */
  readonly commits: CommitObserver;
  readonly #routes: Counter<'route' | 'status'>;
  readonly #routeChildren = new Map<string, Map<number, Prom.Counter.Internal>>();
  readonly #consumersCut: Counter;
  readonly #upstream: LabelledHistogram;
  readonly #upstreamChildren = new Map<string, HistogramChild>();
  readonly #upstreamServices = new Set<string>();
  readonly #backups: { success: Gauge; duration: Gauge; bytes: Gauge; failures: Counter };
  #readRepoWrites: () => RepoWriteCounts = () => ({ restarts: 0, mergedCommits: 0, mergedCalls: 0 });

  constructor(sources: MetricsSources) {
    const { db, firehose } = sources;
    const register = [this.registry];
    this.registry.registerMetric(this.requests.histogram as never);

    const groups = new LabelledHistogram('squall_commit_group_writes', 'Writes per commit group (one SQLite transaction and one WAL fsync per group); _count is the number of groups.', [], [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    const queueWait = new LabelledHistogram('squall_commit_queue_wait_seconds', 'How long a write waited in the group-commit queue before its group started.', [], [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
    const fsync = new LabelledHistogram('squall_wal_fsync_seconds', 'Duration of each fsync of the SQLite WAL (the write path acknowledges writes after it).', [], [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);
    const checkpoint = new LabelledHistogram(
      'squall_wal_checkpoint_seconds',
      'Duration of each checkpoint of the SQLite WAL, by where it ran: the worker thread that copies the frames, or the event loop finishing the last few.',
      ['where'],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    );
    for (const h of [groups, queueWait, fsync, checkpoint]) this.registry.registerMetric(h as never);
    const group = groups.child();
    const wait = queueWait.child();
    const sync = fsync.child();
    const checkpointIn = { worker: checkpoint.child('worker'), 'event-loop': checkpoint.child('event-loop') };
    this.commits = { group: (writes) => group.observe(writes), queueWait: (seconds) => wait.observe(seconds) };
    db.onWalSync = (seconds) => sync.observe(seconds);
    db.onCheckpoint = (where, seconds) => checkpointIn[where].observe(seconds);

    this.#routes = new Counter({ name: 'squall_http_requests_total', help: 'Requests outside /xrpc/ (well-known, robots, metrics, not found) by route and status.', labelNames: ['route', 'status'], registers: register });
    this.#consumersCut = new Counter({ name: 'squall_firehose_slow_consumers_cut_total', help: 'Firehose subscribers disconnected with ConsumerTooSlow.', registers: register });
    this.#upstream = new LabelledHistogram('squall_upstream_request_duration_seconds', 'Requests this server made to an upstream service (proxying) by service and outcome.', ['service', 'outcome'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
    this.registry.registerMetric(this.#upstream as never);

    new Gauge({ name: 'squall_firehose_subscribers', help: 'Live firehose (subscribeRepos) subscribers.', registers: register, collect() { this.set(firehose.stats().subscribers); } });
    new Gauge({ name: 'squall_firehose_oldest_subscriber_lag_events', help: 'Events between the firehose head and the subscriber furthest behind.', registers: register, collect() { this.set(firehose.stats().oldestLag); } });
    new Gauge({ name: 'squall_firehose_head_seq', help: 'The newest sequence number the firehose has served.', registers: register, collect() { this.set(firehose.head); } });
    new Counter({ name: 'squall_firehose_events_total', help: 'Durable events read into the firehose for live subscribers (rate = events/s).', registers: register, collect() { this.reset(); this.inc(firehose.stats().eventsRead); } });
    new Counter({ name: 'squall_firehose_frames_sent_total', help: 'Event frames handed to subscribers (events x subscribers).', registers: register, collect() { this.reset(); this.inc(firehose.stats().framesSent); } });

    const repoWrites = () => this.#readRepoWrites();
    new Counter({ name: 'squall_repo_write_restarts_total', help: 'Repo writes worked out over a queued commit that then failed, and started again from the stored repo.', registers: register, collect() { this.reset(); this.inc(repoWrites().restarts); } });
    new Counter({ name: 'squall_repo_merged_commits_total', help: 'Commits made of the creates of several calls to one repo that arrived while it had a commit waiting for an fsync.', registers: register, collect() { this.reset(); this.inc(repoWrites().mergedCommits); } });
    new Counter({ name: 'squall_repo_merged_calls_total', help: 'Calls (createRecord, applyWrites) answered by a merged commit.', registers: register, collect() { this.reset(); this.inc(repoWrites().mergedCalls); } });

    // Recounted when the firehose moved (an account, repo or record changed) or the TTL passed.
    const counts = cached(sources.countsTtlMs ?? 30_000, () => firehose.head, () => countStorage(db));
    const gauge = (name: string, help: string, read: () => number) => new Gauge({ name, help, registers: register, collect() { this.set(read()); } });
    gauge('squall_accounts', 'Accounts hosted (every status).', () => counts().accounts);
    gauge('squall_accounts_active', 'Accounts neither deactivated nor taken down.', () => counts().activeAccounts);
    gauge('squall_repos', 'Repositories hosted.', () => counts().repos);
    gauge('squall_records', 'Records in the record index.', () => counts().records);
    gauge('squall_blobs', 'Blobs stored (every account, temporary ones included).', () => counts().blobs);
    gauge('squall_blob_bytes', 'Bytes of stored blobs.', () => counts().blobBytes);
    gauge('squall_database_bytes', 'Size of the SQLite database file.', () => fileSize(db.file));
    gauge('squall_database_wal_bytes', 'Size of the SQLite write-ahead log.', () => fileSize(`${db.file}-wal`));

    this.#backups = {
      success: new Gauge({ name: 'squall_backup_last_success_timestamp_seconds', help: 'When the last scheduled backup completed (Unix time; 0 = none since start).', registers: register }),
      duration: new Gauge({ name: 'squall_backup_last_duration_seconds', help: 'How long the last successful scheduled backup took.', registers: register }),
      bytes: new Gauge({ name: 'squall_backup_last_bytes', help: 'Bytes copied by the last successful scheduled backup (blobs linked from the previous one not counted).', registers: register }),
      failures: new Counter({ name: 'squall_backup_failures_total', help: 'Scheduled backups that failed.', registers: register }),
    };
  }

  /** A request outside /xrpc/; `route` must come from a fixed set (the caller maps unknown paths to one name). */
  countRoute(route: string, status: number): void {
    let byStatus = this.#routeChildren.get(route);
    if (!byStatus) this.#routeChildren.set(route, (byStatus = new Map()));
    let child = byStatus.get(status);
    if (!child) byStatus.set(status, (child = this.#routes.labels(route, String(status))));
    child.inc();
  }

  /** Where the repo write path counts its restarts and merges (RepoService); it is made after the metrics. */
  watchRepoWrites(read: () => RepoWriteCounts): void {
    this.#readRepoWrites = read;
  }

  consumerTooSlow(): void {
    this.#consumersCut.inc();
  }

  /**
   * The hook for outbound proxying: one call per upstream request with the upstream's service
   * (e.g. its DID), the HTTP status it answered (or 'error' when there was no answer) and the
   * seconds it took. Past MAX_UPSTREAMS distinct services, the rest share the label `other`.
   */
  observeUpstream(service: string, status: number | 'error', seconds: number): void {
    const outcome = status === 'error' ? 'error' : (STATUS_CLASSES[Math.floor(status / 100)] ?? 'error');
    let label = service;
    if (!this.#upstreamServices.has(service)) {
      if (this.#upstreamServices.size < MAX_UPSTREAMS) this.#upstreamServices.add(service);
      else label = 'other';
    }
    const key = `${label} ${outcome}`;
    let child = this.#upstreamChildren.get(key);
    if (!child) this.#upstreamChildren.set(key, (child = this.#upstream.child(label, outcome)));
    child.observe(seconds);
  }

  backupSucceeded(at: Date, seconds: number, bytes: number): void {
    this.#backups.success.set(at.getTime() / 1000);
    this.#backups.duration.set(seconds);
    this.#backups.bytes.set(bytes);
  }

  backupFailed(): void {
    this.#backups.failures.inc();
  }

  /** The Prometheus text exposition of this server's and the process's metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([this.registry, processRegistry()]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}

interface StorageCounts {
  accounts: number;
  activeAccounts: number;
  repos: number;
  records: number;
  blobs: number;
  blobBytes: number;
}

function countStorage(db: Database): StorageCounts {
  const count = (sql: string) => (db.prepare(sql).get() as { n: number | null }).n ?? 0;
  return {
    accounts: count('SELECT count(*) AS n FROM account'),
    activeAccounts: count('SELECT count(*) AS n FROM account WHERE deactivated_at IS NULL AND takedown_ref IS NULL'),
    repos: count('SELECT count(*) AS n FROM repo_root'),
    records: count('SELECT count(*) AS n FROM record'),
    blobs: count('SELECT count(*) AS n FROM blob'),
    blobBytes: count('SELECT sum(size) AS n FROM blob'),
  };
}

function cached<T>(ttlMs: number, version: () => number, read: () => T): () => T {
  let value: T | undefined;
  let at = -Infinity;
  let seen = -1;
  return () => {
    const now = performance.now();
    if (value === undefined || now - at >= ttlMs || version() !== seen) {
      seen = version();
      value = read();
      at = now;
    }
    return value;
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
