import { decoyHash, verifyPassword } from '../auth/password.ts';
import { Scope, SessionTokens, SessionTokenError, type AccessScope } from '../auth/session-jwt.ts';
import type { Database } from '../db/index.ts';
import type { Account, AccountStore } from './account-store.ts';
import { isAppPasswordFormat, type AppPassword, type AppPasswordCandidate, type AppPasswords } from './app-passwords.ts';
import { AccountError } from './errors.ts';

const invalidLogin = () => new AccountError('InvalidPassword', 'Invalid identifier or password');

function withoutHash({ passwordHash: _, ...appPassword }: AppPasswordCandidate): AppPassword {
  return appPassword;
}

export interface SessionPair {
  accessJwt: string;
  refreshJwt: string;
}

export interface LoginResult {
  account: Account;
  appPassword?: AppPassword;
}

/** Logins, token issue, single-use refresh rotation and revocation. */
export class Sessions {
  constructor(
    private readonly db: Database,
    private readonly accounts: AccountStore,
    private readonly appPasswords: AppPasswords,
    readonly tokens: SessionTokens,
  ) {}

  /**
   * Checks a login with one password verification (scrypt), whatever the account holds: a
   * password of the app-password shape is looked up by its keyed digest first, and only the app
   * password it names is verified; otherwise the account password is. An unknown identifier costs
   * a decoy verification, so timing tells neither whether the account exists nor how many app
   * passwords it has. The one exception is transitional: app passwords stored before lookup
   * digests existed (or under another server secret) have to be tried one by one, each upgraded
   * to a digest at its first successful use (`AppPasswords.legacyCandidates`).
   */
  async login(identifier: string, password: string): Promise<LoginResult> {
    const account = this.accounts.byIdentifier(identifier);
    if (!account) {
      await verifyPassword(password, decoyHash());
      throw invalidLogin();
    }
    if (isAppPasswordFormat(password)) {
      const digest = this.appPasswords.lookupDigest(password);
      const found = this.appPasswords.candidateByDigest(account.did, digest);
      if (found) {
        if (await verifyPassword(password, found.passwordHash)) return { account, appPassword: withoutHash(found) };
        throw invalidLogin();
      }
      const legacy = this.appPasswords.legacyCandidates(account.did);
      if (legacy.length > 0) return this.#loginSlowly(account, password, digest, legacy);
    }
    if (await verifyPassword(password, account.passwordHash)) return { account };
    throw invalidLogin();
  }

  async #loginSlowly(account: Account, password: string, digest: string, legacy: AppPasswordCandidate[]): Promise<LoginResult> {
    if (await verifyPassword(password, account.passwordHash)) return { account };
    for (const candidate of legacy) {
      if (await verifyPassword(password, candidate.passwordHash)) {
        this.appPasswords.recordDigest(candidate.id, digest);
        return { account, appPassword: withoutHash(candidate) };
      }
    }
    throw invalidLogin();
  }

  /** A new session: a refresh token recorded server-side and an access token. */
  issue(did: string, appPassword?: AppPassword): SessionPair {
    const scope: AccessScope = !appPassword ? Scope.Access : appPassword.privileged ? Scope.AppPassPrivileged : Scope.AppPass;
    const refresh = this.tokens.createRefresh(did);
    const access = this.tokens.createAccess(did, scope, appPassword?.id);
    const now = this.tokens.now();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM refresh_token WHERE did = ? AND expires_at < ?').run(did, new Date(now).toISOString());
      this.db
        .prepare('INSERT INTO refresh_token (id, did, app_password_id, expires_at) VALUES (?, ?, ?, ?)')
        .run(refresh.claims.jti, did, appPassword?.id ?? null, new Date(refresh.claims.exp * 1000).toISOString());
    });
    return { accessJwt: access.token, refreshJwt: refresh.token };
  }

  /**
   * Trades a refresh token for a new pair. Each refresh token works once: it is deleted as it is
   * used, so a replayed one is refused.
   */
  refresh(refreshJwt: string): { did: string; pair: SessionPair } {
    const claims = this.#verifyRefresh(refreshJwt);
    return this.db.transaction(() => {
      const row = this.db
        .prepare('SELECT did, app_password_id FROM refresh_token WHERE id = ?')
        .get(claims.jti) as { did: string; app_password_id: string | null } | undefined;
      if (!row || row.did !== claims.sub) throw new AccountError('InvalidToken', 'Refresh token has been used or revoked');
      this.db.prepare('DELETE FROM refresh_token WHERE id = ?').run(claims.jti);
      let appPassword: AppPassword | undefined;
      if (row.app_password_id !== null) {
        appPassword = this.appPasswords.byId(row.did, row.app_password_id);
        if (!appPassword) throw new AccountError('InvalidToken', 'The app password of this session was revoked');
      }
      return { did: row.did, pair: this.issue(row.did, appPassword) };
    });
  }

  /** Ends the session of a refresh token. */
  revoke(refreshJwt: string): string {
    const claims = this.#verifyRefresh(refreshJwt);
    this.db.prepare('DELETE FROM refresh_token WHERE id = ?').run(claims.jti);
    return claims.sub;
  }

  revokeAll(did: string): void {
    this.db.prepare('DELETE FROM refresh_token WHERE did = ?').run(did);
  }

  #verifyRefresh(token: string) {
    try {
      return this.tokens.verifyRefresh(token);
    } catch (err) {
      if (err instanceof SessionTokenError && err.reason === 'expired') throw new AccountError('ExpiredToken', 'Refresh token has expired');
      throw new AccountError('InvalidToken', err instanceof Error ? err.message : 'Invalid refresh token');
    }
  }
}
