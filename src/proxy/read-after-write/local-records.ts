// The account's own records an AppView has not indexed yet: those written after the rev it
// reports (`atproto-repo-rev`). Only posts and the profile change views; at most a few are read.
import { decodeCbor } from '../../ipld/cbor.ts';
import { dataToJson } from '../../ipld/data-model.ts';
import type { RecordIndex } from '../../repo/record-index.ts';

export const POST = 'app.bsky.feed.post';
export const PROFILE = 'app.bsky.actor.profile';
/** As the official PDS: the oldest ten records past the AppView's rev. */
const LIMIT = 10;

export type Json = Record<string, unknown>;

export interface LocalRecord {
  uri: string;
  cid: string;
  /** When this PDS wrote it (ISO). */
  indexedAt: string;
  value: Json;
}

export interface LocalRecords {
  profile?: LocalRecord;
  /** Oldest first. */
  posts: LocalRecord[];
}

export interface LocalRecordSource {
  records: Pick<RecordIndex, 'since' | 'hasAtOrBefore'>;
  /** The repo's current rev, if it has one. */
  repoRev(did: string): string | undefined;
}

/**
 * What the account wrote after `rev`, or undefined when there is nothing to add: the repo is not
 * ahead of the AppView, nothing it wrote since changes a view, or the AppView's rev predates the
 * whole repo (an account that moved here: that rev is about another history).
 */
export function localRecordsSince(source: LocalRecordSource, did: string, rev: string): LocalRecords | undefined {
  const current = source.repoRev(did);
  if (current === undefined || current <= rev) return undefined;
  const rows = source.records.since(did, rev, [POST, PROFILE], LIMIT);
  if (rows.length === 0 || !source.records.hasAtOrBefore(did, rev)) return undefined;
  const local: LocalRecords = { posts: [] };
  for (const row of rows) {
    const record = { uri: `at://${did}/${row.collection}/${row.rkey}`, cid: row.cid, indexedAt: row.indexedAt, value: dataToJson(decodeCbor(row.bytes)) as Json };
    if (row.collection === PROFILE) {
      if (row.rkey === 'self') local.profile = record;
    } else {
      local.posts.push(record);
    }
  }
  return local.profile || local.posts.length > 0 ? local : undefined;
}

/** Milliseconds since the oldest of these records was written: how far behind the AppView is. */
export function upstreamLag(local: LocalRecords, now = Date.now()): number | undefined {
  let oldest = local.profile?.indexedAt;
  for (const post of local.posts) if (oldest === undefined || post.indexedAt < oldest) oldest = post.indexedAt;
  return oldest === undefined ? undefined : Math.max(0, now - Date.parse(oldest));
}
