import type { Database } from '../db/index.ts';
import { encodeCbor } from '../ipld/cbor.ts';

export type SeqEventType = 'commit' | 'sync' | 'identity' | 'account';

/**
 * An event that writes its own DAG-CBOR once its seq and time are chosen, body fields, `seq` and
 * `time` included (the `#commit` event of every write: see repo/commit-event.ts).
 */
export type EventEncoder = (seq: number, time: string) => Uint8Array;

export interface StoredEvent {
  seq: number;
  did: string;
  type: SeqEventType;
  /** The event body as DAG-CBOR, `seq` included: a firehose frame is header + these bytes. */
  encoded: Uint8Array;
  sequencedAt: string;
}

interface Row {
  seq: number;
  did: string;
  event_type: SeqEventType;
  event: Buffer;
  sequenced_at: string;
}

const toEvent = (row: Row): StoredEvent => ({
  seq: row.seq,
  did: row.did,
  type: row.event_type,
  encoded: row.event,
  sequencedAt: row.sequenced_at,
});

/**
 * The sequencer log. Events are appended by the write path inside the same transaction as the
 * repo change they describe, so the firehose can never disagree with the repos. Each event is
 * encoded once, with its final `seq`, and served as stored.
 */
export class SequencerLog {
  constructor(private readonly db: Database) {}

  /** Appends one event (its fields, or its encoder); must run inside the caller's transaction. Returns its seq. */
  append(did: string, type: SeqEventType, body: Record<string, unknown> | EventEncoder, time = new Date().toISOString()): number {
    if (!this.db.inTransaction) throw new Error('sequencer events are appended inside the write transaction');
    // The event carries its own seq, so the seq is chosen first and the row written once with its
    // final bytes. It is the one AUTOINCREMENT would pick (sqlite_sequence holds the largest seq
    // ever used, so a pruned seq is never reused); inside the write transaction nobody else can
    // take it, and the explicit insert moves sqlite_sequence on as an automatic one would.
    const last = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'repo_seq'").pluck().get() as number | undefined;
    const seq = (last ?? 0) + 1;
    const encoded = typeof body === 'function' ? body(seq, time) : encodeCbor({ ...body, seq, time });
    this.db.prepare('INSERT INTO repo_seq (seq, did, event_type, event, sequenced_at) VALUES (?, ?, ?, ?, ?)').run(seq, did, type, encoded, time);
    return seq;
  }

  /** Events with seq > cursor, oldest first. */
  readAfter(cursor: number, limit: number): StoredEvent[] {
    const rows = this.db.prepare('SELECT * FROM repo_seq WHERE seq > ? ORDER BY seq LIMIT ?').all(cursor, limit) as Row[];
    return rows.map(toEvent);
  }

  latestSeq(): number {
    return (this.db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM repo_seq').get() as { seq: number }).seq;
  }

  oldest(): { seq: number; sequencedAt: string } | undefined {
    const row = this.db.prepare('SELECT seq, sequenced_at FROM repo_seq ORDER BY seq LIMIT 1').get() as
      | { seq: number; sequenced_at: string }
      | undefined;
    return row && { seq: row.seq, sequencedAt: row.sequenced_at };
  }

  /** Deletes events older than `before`; returns how many. */
  prune(before: Date): number {
    return this.db.prepare('DELETE FROM repo_seq WHERE sequenced_at < ?').run(before.toISOString()).changes;
  }

  countForDid(did: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM repo_seq WHERE did = ?').get(did) as { n: number }).n;
  }
}
