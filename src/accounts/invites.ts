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

  create(input: { forAccounts: string[]; useCount: number; codeCount: number; createdBy: string }): Array<{ account: string; codes: string[] }> {
    const createdAt = new Date().toISOString();
    const insert = this.db.prepare(
      'INSERT INTO invite_code (code, available_uses, for_account, created_by, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    return this.db.transaction(() =>
      input.forAccounts.map((account) => {
        const codes: string[] = [];
        for (let i = 0; i < input.codeCount; i++) {
          const code = this.generateCode();
          insert.run(code, input.useCount, account, input.createdBy, createdAt);
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

  list(opts: { sort: 'recent' | 'usage'; limit: number; cursor?: string }): { codes: InviteCode[]; cursor?: string } {
    const rows = this.db
      .prepare('SELECT * FROM invite_code WHERE (created_at || code) < ? ORDER BY created_at DESC, code DESC LIMIT ?')
      .all(opts.cursor ?? '\uffff', opts.limit + 1) as CodeRow[];
    const more = rows.length > opts.limit;
    const page = rows.slice(0, opts.limit);
    let codes = page.map((row) => this.#view(row));
    if (opts.sort === 'usage') codes = codes.sort((a, b) => b.uses.length - a.uses.length);
    const last = page.at(-1);
    return { codes, cursor: more && last ? last.created_at + last.code : undefined };
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
