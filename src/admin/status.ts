import { statSync } from 'node:fs';
import { redactConfig, type Config } from '../config.ts';
import type { Database } from '../db/index.ts';

export interface ServerStatus {
  version: string;
  uptimeSeconds: number;
  startedAt: string;
  counts: { accounts: number; activeAccounts: number; repos: number; records: number; events: number };
  /** `walCheckpoints`: checkpoints of the WAL since start, by the worker thread and finished on the event loop (WalCheckpointer). */
  storage: { databaseBytes: number; walBytes: number; walCheckpoints: { worker: number; finished: number } };
  /**
   * The write path since start: commits written and the transactions (fsyncs) they shared
   * (group commit), and commits made of several calls' creates to one repo with the calls they
   * answered (CreateMerger).
   */
  writePath: { transactions: number; writes: number; mergedCommits: number; mergedCalls: number };
  config: unknown;
}

/** What an operator wants to see at a glance; secrets are redacted from the config. */
export function collectStatus(deps: { db: Database; config: Config; startedAt: Date; committer: { stats: { transactions: number; writes: number } }; repo: { merges: { commits: number; calls: number } } }): ServerStatus {
  const { db } = deps;
  const merges = deps.repo.merges;
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    version: deps.config.version,
    uptimeSeconds: Math.floor((Date.now() - deps.startedAt.getTime()) / 1000),
    startedAt: deps.startedAt.toISOString(),
    counts: {
      accounts: count('SELECT count(*) AS n FROM account'),
      activeAccounts: count('SELECT count(*) AS n FROM account WHERE deactivated_at IS NULL AND takedown_ref IS NULL'),
      repos: count('SELECT count(*) AS n FROM repo_root'),
      records: count('SELECT count(*) AS n FROM record'),
      events: count('SELECT count(*) AS n FROM repo_seq'),
    },
    storage: {
      databaseBytes: db.sizeBytes(),
      walBytes: fileSize(`${db.file}-wal`),
      walCheckpoints: db.checkpoints,
    },
    writePath: { ...deps.committer.stats, mergedCommits: merges.commits, mergedCalls: merges.calls },
    config: redactConfig(deps.config),
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
