import type { Database } from '../db/index.ts';

export interface Account {
  did: string;
  handle: string;
  email: string | null;
  emailConfirmedAt: string | null;
  passwordHash: string;
  /** `<alg>:<private key hex>` of the repo signing key. */
  signingKey: string;
  /** The public did:key of the signing key. */
  signingKeyDid: string;
  createdAt: string;
  deactivatedAt: string | null;
  deleteAfter: string | null;
  takedownRef: string | null;
  invitesDisabled: boolean;
}

export type AccountStatus = 'active' | 'deactivated' | 'takendown';

export function accountStatus(account: Pick<Account, 'deactivatedAt' | 'takedownRef'>): AccountStatus {
  if (account.takedownRef) return 'takendown';
  if (account.deactivatedAt) return 'deactivated';
  return 'active';
}

interface AccountRow {
  did: string;
  handle: string;
  email: string | null;
  email_confirmed_at: string | null;
  password_hash: string;
  signing_key: string;
  signing_key_did: string;
  created_at: string;
  deactivated_at: string | null;
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
    passwordHash: row.password_hash,
    signingKey: row.signing_key,
    signingKeyDid: row.signing_key_did,
    createdAt: row.created_at,
    deactivatedAt: row.deactivated_at,
    deleteAfter: row.delete_after,
    takedownRef: row.takedown_ref,
    invitesDisabled: row.invites_disabled === 1,
  };
}

/** SQL for the account table. Handles and emails are compared lower-cased. */
export class AccountStore {
  constructor(private readonly db: Database) {}

  byDid(did: string): Account | undefined {
    return toAccount(this.db.prepare('SELECT * FROM account WHERE did = ?').get(did) as AccountRow | undefined);
  }

  /** Only what every authenticated request checks: a narrow read, no full row to build. */
  statusByDid(did: string): AccountStatus | undefined {
    const row = this.db.prepare('SELECT deactivated_at, takedown_ref FROM account WHERE did = ?').get(did) as
      | Pick<AccountRow, 'deactivated_at' | 'takedown_ref'>
      | undefined;
    return row && accountStatus({ deactivatedAt: row.deactivated_at, takedownRef: row.takedown_ref });
  }

  byHandle(handle: string): Account | undefined {
    return toAccount(this.db.prepare('SELECT * FROM account WHERE handle = ?').get(handle.toLowerCase()) as AccountRow | undefined);
  }

  byEmail(email: string): Account | undefined {
    return toAccount(this.db.prepare('SELECT * FROM account WHERE email = ?').get(email.toLowerCase()) as AccountRow | undefined);
  }

  /** By DID, handle or email, as login identifiers come. */
  byIdentifier(identifier: string): Account | undefined {
    const id = identifier.trim();
    if (id.startsWith('did:')) return this.byDid(id);
    if (id.includes('@')) return this.byEmail(id);
    return this.byHandle(id.replace(/^@/, ''));
  }

  /** Accounts in DID order after `cursor`. */
  list(limit: number, cursor?: string): Account[] {
    const rows = this.db
      .prepare('SELECT * FROM account WHERE did > ? ORDER BY did LIMIT ?')
      .all(cursor ?? '', limit) as AccountRow[];
    return rows.map((r) => toAccount(r)!);
  }

  insert(account: Omit<Account, 'deactivatedAt' | 'deleteAfter' | 'takedownRef' | 'invitesDisabled' | 'emailConfirmedAt'> & { deactivatedAt?: string | null }): void {
    this.db
      .prepare(
        `INSERT INTO account (did, handle, email, password_hash, signing_key, signing_key_did, created_at, deactivated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        account.did,
        account.handle.toLowerCase(),
        account.email?.toLowerCase() ?? null,
        account.passwordHash,
        account.signingKey,
        account.signingKeyDid,
        account.createdAt,
        account.deactivatedAt ?? null,
      );
  }

  updateHandle(did: string, handle: string): void {
    this.db.prepare('UPDATE account SET handle = ? WHERE did = ?').run(handle.toLowerCase(), did);
  }

  updateEmail(did: string, email: string): void {
    this.db.prepare('UPDATE account SET email = ?, email_confirmed_at = NULL WHERE did = ?').run(email.toLowerCase(), did);
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

  setDeactivated(did: string, at: string | null, deleteAfter: string | null = null): void {
    this.db.prepare('UPDATE account SET deactivated_at = ?, delete_after = ? WHERE did = ?').run(at, deleteAfter, did);
  }

  setTakedown(did: string, ref: string | null): void {
    this.db.prepare('UPDATE account SET takedown_ref = ? WHERE did = ?').run(ref, did);
  }

  setInvitesDisabled(did: string, disabled: boolean): void {
    this.db.prepare('UPDATE account SET invites_disabled = ? WHERE did = ?').run(disabled ? 1 : 0, did);
  }

  delete(did: string): void {
    this.db.prepare('DELETE FROM account WHERE did = ?').run(did);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM account').get() as { n: number }).n;
  }
}
