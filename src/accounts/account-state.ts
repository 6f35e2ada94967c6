import type { Database } from '../db/index.ts';
import { toBytes } from '../ipld/cbor.ts';
import { carBytesSync } from '../ipld/car.ts';
import { parseCid } from '../ipld/cid.ts';
import type { GroupCommitter } from '../repo/group-commit.ts';
import { RecordIndex } from '../repo/record-index.ts';
import type { RepoService } from '../repo/repo-service.ts';
import type { Firehose } from '../sync/firehose.ts';
import type { SequencerLog } from '../sync/sequencer-log.ts';
import { accountStatus, type Account, type AccountStore } from './account-store.ts';
import { AccountError } from './errors.ts';
import type { Sessions } from './sessions.ts';

export interface AccountStateDeps {
  db: Database;
  accounts: AccountStore;
  committer: GroupCommitter;
  sequencer: SequencerLog;
  firehose: Pick<Firehose, 'notify'>;
  repo: Pick<RepoService, 'rootOrUndefined' | 'blockStore' | 'resignHead'>;
  sessions: Pick<Sessions, 'revokeAll'>;
  /** Asks the configured relays to crawl (an account went live, perhaps new to them). */
  requestCrawl?: () => void;
  now?: () => Date;
}

/** The `#account` event body for an account as it now is (seq and time are added by the log). */
export function accountEvent(account: Account): Record<string, unknown> {
  const status = accountStatus(account);
  return status === 'active' ? { did: account.did, active: true } : { did: account.did, active: false, status };
}

/**
 * Runs `change` on the account in the shared durable transaction, appends the `#account`
 * event (plus whatever `alsoAppend` adds) for the account as it is afterwards, and wakes the
 * firehose once the events are durable.
 */
async function changeAccount(deps: AccountStateDeps, did: string, change: () => void, alsoAppend?: (account: Account) => void): Promise<Account> {
  const updated = await deps.committer.run(() => {
    if (!deps.accounts.byDid(did)) throw new AccountError('AccountNotFound', 'Account not found');
    change();
    const account = deps.accounts.byDid(did)!;
    deps.sequencer.append(did, 'account', accountEvent(account));
    alsoAppend?.(account);
    return account;
  });
  deps.firehose.notify();
  return updated;
}

/** Pauses the account (`deleteAfter` is the owner's hint of when it may be deleted). */
export function deactivateAccount(deps: AccountStateDeps, did: string, deleteAfter?: string): Promise<Account> {
  const at = (deps.now?.() ?? new Date()).toISOString();
  return changeAccount(deps, did, () => deps.accounts.setDeactivated(did, at, deleteAfter ?? null));
}

/**
 * Ends a deactivation. Like the official PDS it then re-announces the account: `#account`,
 * `#identity` and a `#sync` of the current commit, so a relay that dropped the account while
 * it was inactive picks its state up again without a gap. A head commit the account's key does
 * not verify (an imported repo, signed by the PDS it came from) is first re-signed as a new
 * commit, in the same transaction, so the repo verifies against the DID document at once.
 * (Callers check the DID document first.)
 */
export async function activateAccount(deps: AccountStateDeps, did: string): Promise<Account> {
  if (!deps.accounts.byDid(did)) throw new AccountError('AccountNotFound', 'Account not found');
  if (!deps.repo.rootOrUndefined(did)) return changeAccount(deps, did, () => deps.accounts.setDeactivated(did, null, null));
  const account = await deps.repo.resignHead(did, () => {
    if (!deps.accounts.byDid(did)) throw new AccountError('AccountNotFound', 'Account not found');
    deps.accounts.setDeactivated(did, null, null);
    return announce(deps, did);
  });
  deps.requestCrawl?.();
  return account;
}

/** Inside a transaction: `#account` (as the account now is), `#identity` and `#sync` of its head. */
function announce(deps: AccountStateDeps, did: string): Account {
  const account = deps.accounts.byDid(did)!;
  deps.sequencer.append(did, 'account', accountEvent(account));
  deps.sequencer.append(did, 'identity', { did, handle: account.handle });
  const sync = syncEvent(deps, did);
  if (sync) deps.sequencer.append(did, 'sync', sync);
  return account;
}

/**
 * Takes an account down (`ref` names the moderation action; a timestamp when none is given)
 * or reverses it. A takedown also ends every session: the access verifier already refuses
 * taken-down accounts, and nothing should be able to refresh its way back in afterwards.
 */
export function updateTakedown(deps: AccountStateDeps, did: string, takedown: { applied: boolean; ref?: string }): Promise<Account> {
  const ref = takedown.applied ? takedown.ref ?? (deps.now?.() ?? new Date()).toISOString() : null;
  return changeAccount(deps, did, () => {
    deps.accounts.setTakedown(did, ref);
    if (ref !== null) deps.sessions.revokeAll(did);
  });
}

/**
 * Inside a transaction that just replaced a live account's repo (an import): a `#sync` of the
 * new head, so relays take the repo as it now is.
 */
export function appendSyncEvent(deps: Pick<AccountStateDeps, 'sequencer' | 'repo'>, did: string): void {
  const sync = syncEvent(deps, did);
  if (sync) deps.sequencer.append(did, 'sync', sync);
}

/** `#sync` body: the current commit block in a CAR whose root is that commit. */
function syncEvent(deps: Pick<AccountStateDeps, 'repo'>, did: string): Record<string, unknown> | undefined {
  const root = deps.repo.rootOrUndefined(did);
  if (!root) return undefined;
  const bytes = deps.repo.blockStore(did).get(root.cid);
  if (!bytes) throw new Error(`commit block ${root.cid} of ${did} is missing`);
  const cid = parseCid(root.cid);
  return { did, blocks: toBytes(carBytesSync(cid, [{ cid, bytes }])), rev: root.rev };
}

export interface AccountDataCounts {
  repoBlocks: number;
  indexedRecords: number;
  privateStateValues: number;
  /** Distinct blobs the account's records reference. */
  expectedBlobs: number;
  /** Of those, how many this server holds. */
  importedBlobs: number;
}

/** What the server holds for an account, counted from the tables (for `checkAccountStatus`). */
export function countAccountData(db: Database, did: string): AccountDataCounts {
  const count = (sql: string) => (db.prepare(sql).get(did) as { n: number }).n;
  const records = new RecordIndex(db);
  const counts: AccountDataCounts = {
    // the commit and MST nodes, and each distinct record block (kept with the records, migration 14)
    repoBlocks: count('SELECT count(*) AS n FROM repo_block WHERE did = ?') + records.blockCount(did),
    indexedRecords: records.count(did),
    privateStateValues: count('SELECT count(*) AS n FROM account_pref WHERE did = ?'),
    expectedBlobs: 0,
    importedBlobs: 0,
  };
  // The blob tables arrive with the blob service's migration; without them there are no blobs.
  if (hasTables(db, ['blob', 'record_blob'])) {
    counts.expectedBlobs = count('SELECT count(DISTINCT blob_cid) AS n FROM record_blob WHERE did = ?');
    counts.importedBlobs = count(
      `SELECT count(DISTINCT rb.blob_cid) AS n FROM record_blob rb
       JOIN blob b ON b.did = rb.did AND b.cid = rb.blob_cid WHERE rb.did = ?`,
    );
  }
  return counts;
}

function hasTables(db: Database, names: string[]): boolean {
  const found = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN (${names.map(() => '?').join(', ')})`).get(...names) as {
    n: number;
  };
  return found.n === names.length;
}
