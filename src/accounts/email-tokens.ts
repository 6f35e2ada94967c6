import { hash, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/index.ts';
import { EMAIL_TOKEN_TTL_MS, generateEmailToken, normalizeEmailToken } from '../email/tokens.ts';
import { AccountFlowError } from './flow-errors.ts';

/** What an emailed code allows. One live code per purpose and account: a new request replaces the old code. */
export type EmailTokenPurpose = 'confirm_email' | 'update_email' | 'reset_password' | 'delete_account' | 'plc_operation' | 'sign_in';

export interface EmailTokensOptions {
  /** Epoch milliseconds; tests move it to expire codes. */
  now?: () => number;
  ttlMs?: number;
}

/**
 * Codes are stored as their sha256, never as typed: a leaked database holds no live code, and
 * a lookup by code (password reset knows only the code) is a lookup by digest, whose timing says
 * nothing about which characters of a guess were right.
 */
function digest(token: string): Buffer {
  return hash('sha256', token, 'buffer');
}

/** A digest no code has, compared against when there is no stored code, so every check costs the same. */
const NO_DIGEST = Buffer.alloc(32);

interface TokenRow {
  did: string;
  token: string;
  requested_at: string;
}

/**
 * Short-lived, single-use codes sent by email (`email_token`). A code is checked in constant
 * time against the one stored for (purpose, account), expires `ttlMs` after it was requested,
 * and is deleted in the same transaction as the action it allows, so it works once.
 */
export class EmailTokens {
  readonly #db: Database;
  readonly #now: () => number;
  readonly ttlMs: number;

  constructor(db: Database, options: EmailTokensOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? EMAIL_TOKEN_TTL_MS;
  }

  /** A new code for the account and purpose, replacing any earlier one. Returns the code to mail. */
  create(did: string, purpose: EmailTokenPurpose): string {
    const requestedAt = new Date(this.#now()).toISOString();
    for (let attempt = 0; ; attempt++) {
      const token = generateEmailToken();
      try {
        this.#db
          .prepare(
            `INSERT INTO email_token (purpose, did, token, requested_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (purpose, did) DO UPDATE SET token = excluded.token, requested_at = excluded.requested_at`,
          )
          .run(purpose, did, digest(token).toString('hex'), requestedAt);
        return token;
      } catch (err) {
        // Two live codes of one purpose may not share a digest (the lookup by code must be
        // unambiguous); at 50 bits a clash is astronomically rare, and a fresh code fixes it.
        if (attempt < 3 && err instanceof Error && /UNIQUE constraint failed: email_token\.purpose, email_token\.token/.test(err.message)) continue;
        throw err;
      }
    }
  }

  /** Throws `InvalidToken` or `ExpiredToken` unless `input` is the account's live code for `purpose`. */
  verify(did: string, purpose: EmailTokenPurpose, input: string): void {
    const row = this.#db.prepare('SELECT did, token, requested_at FROM email_token WHERE purpose = ? AND did = ?').get(purpose, did) as
      | TokenRow
      | undefined;
    const token = normalizeEmailToken(input);
    const given = token === null ? NO_DIGEST : digest(token);
    const stored = row ? Buffer.from(row.token, 'hex') : NO_DIGEST;
    const equal = stored.length === given.length && timingSafeEqual(stored, given);
    if (!row || token === null || !equal) throw new AccountFlowError('InvalidToken', 'Token is invalid');
    this.#checkFresh(row);
  }

  /**
   * The account whose live `purpose` code `input` is (password reset: the code is all the
   * caller has). Throws like `verify`.
   */
  verifyAny(purpose: EmailTokenPurpose, input: string): string {
    const token = normalizeEmailToken(input);
    if (token === null) throw new AccountFlowError('InvalidToken', 'Token is invalid');
    const row = this.#db
      .prepare('SELECT did, token, requested_at FROM email_token WHERE purpose = ? AND token = ?')
      .get(purpose, digest(token).toString('hex')) as TokenRow | undefined;
    if (!row) throw new AccountFlowError('InvalidToken', 'Token is invalid');
    this.#checkFresh(row);
    return row.did;
  }

  /** Verifies and deletes the code in one transaction: the action it allows happens once. */
  consume(did: string, purpose: EmailTokenPurpose, input: string): void {
    this.#db.transaction(() => {
      this.verify(did, purpose, input);
      this.delete(did, purpose);
    });
  }

  delete(did: string, purpose: EmailTokenPurpose): void {
    this.#db.prepare('DELETE FROM email_token WHERE purpose = ? AND did = ?').run(purpose, did);
  }

  /** Deletes codes of every purpose whose lifetime is over; returns how many. */
  pruneExpired(): number {
    const cutoff = new Date(this.#now() - this.ttlMs).toISOString();
    return this.#db.prepare('DELETE FROM email_token WHERE requested_at < ?').run(cutoff).changes;
  }

  #checkFresh(row: TokenRow): void {
    const requestedAt = Date.parse(row.requested_at);
    if (!(this.#now() - requestedAt < this.ttlMs)) throw new AccountFlowError('ExpiredToken', 'Token is expired');
  }
}
