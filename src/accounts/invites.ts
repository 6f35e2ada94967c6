import { randomInt } from 'node:crypto';
import type { Database } from '../db/index.ts';
import { AccountError } from './errors.ts';

export interface InviteCode {
  code: string;
  available: number;
  disabled: boolean;
  forAccount: string;
  createdBy: string;
  createdAt: string;
  uses: Array<{ usedBy: string; usedAt: string }>;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Most codes one `create` call makes. */
export const MAX_CODES_PER_CALL = 1000;

function randomPart(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

interface CodeRow {
  code: string;
  available_uses: number;
  disabled: number;
  for_account: string;
  created_by: string;
  created_at: string;
}

/** Invite codes: `<hostname with dashes>-<5>-<5>`, each with a number of uses. */
export class Invites {
  constructor(
    private readonly db: Database,
    private readonly hostname: string,
  ) {}

  generateCode(): string {
    return `${this.hostname.replaceAll('.', '-')}-${randomPart(5)}-${randomPart(5)}`;
  }

  /**
   * Makes `codeCount` codes for each account, each good for `useCount` sign-ups. At most
   * MAX_CODES_PER_CALL codes at once: a typo in an admin script should not fill the table.
   */
  create(input: { forAccounts: string[]; useCount: number; codeCount: number; createdBy: string }): Array<{ account: string; codes: string[] }> {
    if (!Number.isInteger(input.useCount) || input.useCount < 1) throw new AccountError('InvalidInput', 'useCount must be at least 1');
    if (!Number.isInteger(input.codeCount) || input.codeCount < 1) throw new AccountError('InvalidInput', 'codeCount must be at least 1');
    if (input.forAccounts.length === 0) throw new AccountError('InvalidInput', 'forAccounts must name at least one account');
    if (input.codeCount * input.forAccounts.length > MAX_CODES_PER_CALL) {
      throw new AccountError('InvalidInput', `At most ${MAX_CODES_PER_CALL} invite codes can be created at once`);
    }
    const createdAt = new Date().toISOString();
    const insert = this.db.prepare(
      'INSERT INTO invite_code (code, available_uses, disabled, for_account, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const invitesDisabled = this.db.prepare('SELECT invites_disabled FROM account WHERE did = ?');
    return this.db.transaction(() =>
      input.forAccounts.map((account) => {
        // An account barred from receiving invites still gets its codes recorded, but disabled,
        // so the bookkeeping stays whole and nothing it holds can be used.
        const barred = (invitesDisabled.get(account) as { invites_disabled: number } | undefined)?.invites_disabled === 1;
        const codes: string[] = [];
        for (let i = 0; i < input.codeCount; i++) {
          const code = this.generateCode();
          insert.run(code, input.useCount, barred ? 1 : 0, account, input.createdBy, createdAt);
          codes.push(code);
        }
        return { account, codes };
      }),
    );
  }

  /** Checks a code can be used; call inside the account-creation transaction, then `use`. */
  ensureAvailable(code: string): void {
    const row = this.db.prepare('SELECT * FROM invite_code WHERE code = ?').get(code) as CodeRow | undefined;
    if (!row || row.disabled === 1) throw new AccountError('InvalidInviteCode', 'Provided invite code not available');
    const used = (this.db.prepare('SELECT count(*) AS n FROM invite_code_use WHERE code = ?').get(code) as { n: number }).n;
    if (used >= row.available_uses) throw new AccountError('InvalidInviteCode', 'Provided invite code not available');
  }

  use(code: string, usedBy: string): void {
    this.ensureAvailable(code);
    this.db.prepare('INSERT INTO invite_code_use (code, used_by, used_at) VALUES (?, ?, ?)').run(code, usedBy, new Date().toISOString());
  }

  forAccount(did: string, includeUsed = true): InviteCode[] {
    const rows = this.db.prepare('SELECT * FROM invite_code WHERE for_account = ? ORDER BY created_at, code').all(did) as CodeRow[];
    return rows.map((row) => this.#view(row)).filter((code) => includeUsed || code.uses.length < code.available);
  }

  get(code: string): InviteCode | undefined {
    const row = this.db.prepare('SELECT * FROM invite_code WHERE code = ?').get(code) as CodeRow | undefined;
    return row && this.#view(row);
  }

  /** The code an account signed up with, if it used one. */
  usedBy(did: string): InviteCode | undefined {
    const use = this.db.prepare('SELECT code FROM invite_code_use WHERE used_by = ? ORDER BY used_at LIMIT 1').get(did) as { code: string } | undefined;
    return use && this.get(use.code);
  }

  /**
   * Every code, newest first (`recent`) or most used first (`usage`), in pages. The cursor is
   * the sort key of the last code of the page, so pages neither skip nor repeat codes.
   */
  list(opts: { sort: 'recent' | 'usage'; limit: number; cursor?: string }): { codes: InviteCode[]; cursor?: string } {
    let rows: Array<CodeRow & { key: string }>;
    if (opts.sort === 'usage') {
      // Use counts are zero-padded so the key sorts as text the way the counts sort as numbers.
      rows = this.db
        .prepare(
          `SELECT c.*, printf('%010d', (SELECT count(*) FROM invite_code_use u WHERE u.code = c.code)) || ':' || c.code AS key
           FROM invite_code c WHERE key < ? ORDER BY key DESC LIMIT ?`,
        )
        .all(opts.cursor ?? '\uffff', opts.limit + 1) as Array<CodeRow & { key: string }>;
    } else {
      rows = this.db
        .prepare('SELECT *, created_at || \':\' || code AS key FROM invite_code WHERE key < ? ORDER BY key DESC LIMIT ?')
        .all(opts.cursor ?? '\uffff', opts.limit + 1) as Array<CodeRow & { key: string }>;
    }
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    return { codes: page.map((row) => this.#view(row)), cursor: rows.length > opts.limit && last ? last.key : undefined };
  }

  disable(input: { codes?: string[]; accounts?: string[] }): void {
    this.db.transaction(() => {
      for (const code of input.codes ?? []) this.db.prepare('UPDATE invite_code SET disabled = 1 WHERE code = ?').run(code);
      for (const did of input.accounts ?? []) this.db.prepare('UPDATE invite_code SET disabled = 1 WHERE for_account = ?').run(did);
    });
  }

  #view(row: CodeRow): InviteCode {
    const uses = this.db
      .prepare('SELECT used_by, used_at FROM invite_code_use WHERE code = ? ORDER BY used_at')
      .all(row.code) as Array<{ used_by: string; used_at: string }>;
    return {
      code: row.code,
      available: row.available_uses,
      disabled: row.disabled === 1,
      forAccount: row.for_account,
      createdBy: row.created_by,
      createdAt: row.created_at,
      uses: uses.map((u) => ({ usedBy: u.used_by, usedAt: u.used_at })),
    };
  }
}
