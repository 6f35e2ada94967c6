import { decoyHash, verifyPassword } from '../auth/password.ts';
import { Scope, SessionTokens, SessionTokenError, type AccessScope } from '../auth/session-jwt.ts';
import type { Database } from '../db/index.ts';
import type { Account, AccountStore } from './account-store.ts';
import type { AppPassword, AppPasswords } from './app-passwords.ts';
import { AccountError } from './errors.ts';

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
   * Checks a login. The account password is tried first; an app password only when the
   * password has the app-password shape. Unknown identifiers cost a decoy hash, so timing
   * does not reveal which accounts exist.
   */
  async login(identifier: string, password: string): Promise<LoginResult> {
    const account = this.accounts.byIdentifier(identifier);
    if (!account) {
      await verifyPassword(password, await decoyHash());
      throw new AccountError('InvalidPassword', 'Invalid identifier or password');
    }
    if (await verifyPassword(password, account.passwordHash)) return { account };
    const appPassword = await this.appPasswords.match(account.did, password);
    if (appPassword) return { account, appPassword };
    throw new AccountError('InvalidPassword', 'Invalid identifier or password');
  }

  /** A new session: a refresh token recorded server-side and an access token. */
  issue(did: string, appPassword?: AppPassword): SessionPair {
    const scope: AccessScope = !appPassword ? Scope.Access : appPassword.privileged ? Scope.AppPassPrivileged : Scope.AppPass;
    const refresh = this.tokens.createRefresh(did);
    const access = this.tokens.createAccess(did, scope, appPassword?.name);
    const now = this.tokens.now();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM refresh_token WHERE did = ? AND expires_at < ?').run(did, new Date(now).toISOString());
      this.db
        .prepare('INSERT INTO refresh_token (id, did, app_password_name, expires_at) VALUES (?, ?, ?, ?)')
        .run(refresh.claims.jti, did, appPassword?.name ?? null, new Date(refresh.claims.exp * 1000).toISOString());
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
        .prepare('SELECT did, app_password_name FROM refresh_token WHERE id = ?')
        .get(claims.jti) as { did: string; app_password_name: string | null } | undefined;
      if (!row || row.did !== claims.sub) throw new AccountError('InvalidToken', 'Refresh token has been used or revoked');
      this.db.prepare('DELETE FROM refresh_token WHERE id = ?').run(claims.jti);
      let appPassword: AppPassword | undefined;
      if (row.app_password_name !== null) {
        appPassword = this.appPasswords.get(row.did, row.app_password_name);
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
