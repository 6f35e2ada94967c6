import type { Database } from '../db/index.ts';
import { publicStatus, type AccountState, type PublicAccountStatus } from './account-policy.ts';

export interface Account {
  did: string;
  handle: string;
  email: string | null;
  emailConfirmedAt: string | null;
  /** Sign-in with the account password also needs a code mailed to the address (app passwords do not). */
  emailAuthFactor: boolean;
  passwordHash: string;
  /** `<alg>:<private key hex>` of the repo signing key. */
  signingKey: string;
  /** The public did:key of the signing key. */
  signingKeyDid: string;
  createdAt: string;
  deactivatedAt: string | null;
  /** Set while an account created here by migration has not been activated (it is deactivated too). */
  arrivingAt: string | null;
  deleteAfter: string | null;
  takedownRef: string | null;
  invitesDisabled: boolean;
}

export type AccountStatus = PublicAccountStatus;

type StateColumns = Pick<Account, 'deactivatedAt' | 'takedownRef' | 'arrivingAt'>;

/** An account's DID and what its state is made of: what a public read of its repo checks. */
export type AccountRef = Pick<Account, 'did'> & StateColumns;

/** The account's state, for the policy of what it may do (account-policy.ts). */
export function accountState(account: StateColumns): AccountState {
  if (account.takedownRef) return 'takendown';
  if (account.arrivingAt) return 'arriving';
  if (account.deactivatedAt) return 'deactivated';
  return 'active';
}

/** The account's status as everyone else sees it (an arriving account shows as deactivated). */
export function accountStatus(account: StateColumns): AccountStatus {
  return publicStatus(accountState(account));
}

interface AccountRow {
  did: string;
  handle: string;
  email: string | null;
  email_confirmed_at: string | null;
  email_auth_factor: number;
  password_hash: string;
  signing_key: string;
  signing_key_did: string;
  created_at: string;
  deactivated_at: string | null;
  arriving_at: string | null;
  delete_after: string | null;
  takedown_ref: string | null;
  invites_disabled: number;
}

function toAccount(row: AccountRow | undefined): Account | undefined {
  if (!row) return undefined;
  return {
    did: row.did,
    handle: row.handle,
    email: row.email,
    emailConfirmedAt: row.email_confirmed_at,
    emailAuthFactor: row.email_auth_factor === 1,
    passwordHash: row.password_hash,
    signingKey: row.signing_key,
    signingKeyDid: row.signing_key_did,
    createdAt: row.created_at,
    deactivatedAt: row.deactivated_at,
    arrivingAt: row.arriving_at,
    deleteAfter: row.delete_after,
    takedownRef: row.takedown_ref,
    invitesDisabled: row.invites_disabled === 1,
  };
}

const REF_COLUMNS = 'did, deactivated_at, takedown_ref, arriving_at';
type RefRow = Pick<AccountRow, 'did' | 'deactivated_at' | 'takedown_ref' | 'arriving_at'>;

function toRef(row: RefRow | undefined): AccountRef | undefined {
  return row && { did: row.did, deactivatedAt: row.deactivated_at, takedownRef: row.takedown_ref, arrivingAt: row.arriving_at };
}

/**
 * A login identifier as lookups compare it: trimmed; a handle without its leading `@` and lower
 * case, an email lower case, a DID as given (DIDs are case-sensitive; ours are lower case).
 */
export function normalizeIdentifier(identifier: string): string {
  const id = identifier.trim();
  if (id.startsWith('did:')) return id;
  return id.replace(/^@/, '').toLowerCase();
}

/** Account states kept by `refByDid`: ~250 bytes each. */
const CACHED_REFS = 4096;

/** SQL for the account table. Handles and emails are compared lower-cased. */
export class AccountStore {
  /**
   * The state columns of recently read accounts, by DID, oldest first out. Every authenticated
   * request and every read of a repo checks one, and under load that point read cost ~15 µs (a
   * WAL read transaction of its own). Only committed state is kept (what is read outside a
   * transaction), and every method below that changes an account's state drops its entry first,
   * so the cache is exact as long as this process is the only one writing the database, which
   * the server lock guarantees (db/server-lock.ts; admin commands go through the server's API).
   * Several processes writing one database would need these changes broadcast to each other.
   */
  readonly #refs = new Map<string, Readonly<AccountRef>>();

  constructor(private readonly db: Database) {}

  byDid(did: string): Account | undefined {
    return toAccount(this.db.prepare('SELECT * FROM account WHERE did = ?').get(did) as AccountRow | undefined);
  }

  /** Only what every authenticated request checks: a narrow read, no full row to build. */
  stateByDid(did: string): AccountState | undefined {
    const ref = this.refByDid(did);
    return ref && accountState(ref);
  }

  /** The DID and state columns of an account: what a read of its repo checks (see api/repo-access.ts). */
  refByDid(did: string): Readonly<AccountRef> | undefined {
    const cached = this.#refs.get(did);
    if (cached !== undefined) return cached;
    const ref = toRef(this.db.prepare(`SELECT ${REF_COLUMNS} FROM account WHERE did = ?`).get(did) as RefRow | undefined);
    if (ref !== undefined && !this.db.inTransaction) {
      if (this.#refs.size >= CACHED_REFS) this.#refs.delete(this.#refs.keys().next().value!);
      this.#refs.set(did, Object.freeze(ref));
    }
    return ref;
  }

  /** `refByDid` for a repo named by DID or handle (record reads take either). */
  refByRepo(repo: string): Readonly<AccountRef> | undefined {
    if (repo.startsWith('did:')) return this.refByDid(repo);
    return toRef(this.db.prepare(`SELECT ${REF_COLUMNS} FROM account WHERE handle = ?`).get(repo.toLowerCase()) as RefRow | undefined);
  }

  byHandle(handle: string): Account | undefined {
    return toAccount(this.db.prepare('SELECT * FROM account WHERE handle = ?').get(handle.toLowerCase()) as AccountRow | undefined);
  }

  byEmail(email: string): Account | undefined {
    return toAccount(this.db.prepare('SELECT * FROM account WHERE email = ?').get(email.toLowerCase()) as AccountRow | undefined);
  }

  /** By DID, handle or email, as login identifiers come (see `normalizeIdentifier`). */
  byIdentifier(identifier: string): Account | undefined {
    const id = normalizeIdentifier(identifier);
    if (id.startsWith('did:')) return this.byDid(id);
    if (id.includes('@')) return this.byEmail(id);
    return this.byHandle(id);
  }

  /** The DID a login identifier names, read narrowly (what per-account login limits count by). */
  didByIdentifier(identifier: string): string | undefined {
    const id = normalizeIdentifier(identifier);
    const column = id.startsWith('did:') ? 'did' : id.includes('@') ? 'email' : 'handle';
    const row = this.db.prepare(`SELECT did FROM account WHERE ${column} = ?`).get(id) as { did: string } | undefined;
    return row?.did;
  }

  /** Accounts in DID order after `cursor`. */
  list(limit: number, cursor?: string): Account[] {
    const rows = this.db
      .prepare('SELECT * FROM account WHERE did > ? ORDER BY did LIMIT ?')
      .all(cursor ?? '', limit) as AccountRow[];
    return rows.map((r) => toAccount(r)!);
  }

  /**
   * A new account. `arriving: true` creates it arriving by migration: deactivated, and marked so
   * that it may fill itself in until `activate` (see account-policy.ts).
   */
  insert(
    account: Omit<Account, 'deactivatedAt' | 'arrivingAt' | 'deleteAfter' | 'takedownRef' | 'invitesDisabled' | 'emailConfirmedAt' | 'emailAuthFactor'> & {
      deactivatedAt?: string | null;
      arriving?: boolean;
    },
  ): void {
    const deactivatedAt = account.arriving ? (account.deactivatedAt ?? account.createdAt) : (account.deactivatedAt ?? null);
    this.#refs.delete(account.did);
    this.db
      .prepare(
        `INSERT INTO account (did, handle, email, password_hash, signing_key, signing_key_did, created_at, deactivated_at, arriving_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        account.did,
        account.handle.toLowerCase(),
        account.email?.toLowerCase() ?? null,
        account.passwordHash,
        account.signingKey,
        account.signingKeyDid,
        account.createdAt,
        deactivatedAt,
        account.arriving ? account.createdAt : null,
      );
  }

  updateHandle(did: string, handle: string): void {
    this.db.prepare('UPDATE account SET handle = ? WHERE did = ?').run(handle.toLowerCase(), did);
  }

  updateEmail(did: string, email: string): void {
    this.db.prepare('UPDATE account SET email = ?, email_confirmed_at = NULL WHERE did = ?').run(email.toLowerCase(), did);
  }

  setEmailAuthFactor(did: string, on: boolean): void {
    this.db.prepare('UPDATE account SET email_auth_factor = ? WHERE did = ?').run(on ? 1 : 0, did);
  }

  confirmEmail(did: string, at: string): void {
    this.db.prepare('UPDATE account SET email_confirmed_at = ? WHERE did = ?').run(at, did);
  }

  updatePassword(did: string, passwordHash: string): void {
    this.db.prepare('UPDATE account SET password_hash = ? WHERE did = ?').run(passwordHash, did);
  }

  updateSigningKey(did: string, signingKey: string, signingKeyDid: string): void {
    this.db.prepare('UPDATE account SET signing_key = ?, signing_key_did = ? WHERE did = ?').run(signingKey, signingKeyDid, did);
  }

  /** Deactivates (an arriving account stays arriving); `at` null is `activate`. */
  setDeactivated(did: string, at: string | null, deleteAfter: string | null = null): void {
    if (at === null) return this.activate(did);
    this.#refs.delete(did);
    this.db.prepare('UPDATE account SET deactivated_at = ?, delete_after = ? WHERE did = ?').run(at, deleteAfter, did);
  }

  /** Active again, or for the first time for an account that arrived by migration. */
  activate(did: string): void {
    this.#refs.delete(did);
    this.db.prepare('UPDATE account SET deactivated_at = NULL, delete_after = NULL, arriving_at = NULL WHERE did = ?').run(did);
  }

  setTakedown(did: string, ref: string | null): void {
    this.#refs.delete(did);
    this.db.prepare('UPDATE account SET takedown_ref = ? WHERE did = ?').run(ref, did);
  }

  setInvitesDisabled(did: string, disabled: boolean): void {
    this.db.prepare('UPDATE account SET invites_disabled = ? WHERE did = ?').run(disabled ? 1 : 0, did);
  }

  delete(did: string): void {
    this.#refs.delete(did);
    this.db.prepare('DELETE FROM account WHERE did = ?').run(did);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM account').get() as { n: number }).n;
  }
}
