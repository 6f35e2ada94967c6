import { createHash, randomBytes } from 'node:crypto';
import { decoyHash, verifyPassword } from '../auth/password.ts';
import { REFRESH_TOKEN_TTL_MS, Scope, SessionTokens, SessionTokenError, type AccessScope } from '../auth/session-jwt.ts';
import type { Database } from '../db/index.ts';
import type { Account, AccountStore } from './account-store.ts';
import { isAppPasswordFormat, type AppPassword, type AppPasswordCandidate, type AppPasswords } from './app-passwords.ts';
import { AccountError } from './errors.ts';
import { RefreshTokens, type StoredRefreshToken } from './refresh-tokens.ts';

/**
 * How long a used refresh token may be presented again: a client whose refresh answer was lost
 * (a dropped connection, a crash before it saved the pair) retries and gets the same new pair.
 * After that, or once the new token has itself been used, a replay is taken for theft.
 */
export const REFRESH_RETRY_GRACE_MS = 10 * 60 * 1000;

const newTokenId = () => randomBytes(24).toString('base64url');
/** Expiry of a token issued now, on a whole second as its JWT has it. */
const expiryFrom = (now: number) => Math.floor(now / 1000) * 1000 + REFRESH_TOKEN_TTL_MS;
/** The access token of a session step is derived from its refresh token, so a retry re-issues the same one. */
const accessIdOf = (refreshId: string) => createHash('sha256').update(`access:${refreshId}`).digest('base64url').slice(0, 16);

const invalidLogin = () => new AccountError('InvalidPassword', 'Invalid identifier or password');
const replayed = () => new AccountError('InvalidToken', 'Refresh token was already used: the session is revoked');

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

/** Logins, token issue, refresh rotation (with a retry window and replay detection) and revocation. */
export class Sessions {
  readonly #refreshTokens: RefreshTokens;

  constructor(
    private readonly db: Database,
    private readonly accounts: AccountStore,
    private readonly appPasswords: AppPasswords,
    readonly tokens: SessionTokens,
  ) {
    this.#refreshTokens = new RefreshTokens(db);
  }

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

  /** A new session (a family of its own): a refresh token recorded server-side and an access token. */
  issue(did: string, appPassword?: AppPassword): SessionPair {
    const now = this.tokens.now();
    const id = newTokenId();
    const token = { id, did, appPasswordId: appPassword?.id ?? null, familyId: id, expiresAt: expiryFrom(now) };
    this.db.transaction(() => {
      this.#refreshTokens.deleteSpent(did, now);
      this.#refreshTokens.insert(token);
    });
    return this.#pairOf(token, appPassword);
  }

  /**
   * Trades a refresh token for a new pair, the old one kept for a retry: presented again within
   * REFRESH_RETRY_GRACE_MS, while its successor is unused, it answers that same pair. Any other
   * reuse (after the window, or once the successor was traded too) is a replay of a token someone
   * may have stolen: the session's whole family is revoked.
   */
  refresh(refreshJwt: string): { did: string; pair: SessionPair } {
    const claims = this.#verifyRefresh(refreshJwt);
    const now = this.tokens.now();
    // Decided in one transaction, thrown after it: a revocation must not roll back with the error.
    const outcome = this.db.transaction((): { did: string; pair: SessionPair } | AccountError => {
      const token = this.#refreshTokens.get(claims.jti);
      if (!token || token.did !== claims.sub) {
        // Gone: revoked, expired, or used long ago. In the last case its family lives on.
        const ended = this.#refreshTokens.deleteFamily(claims.sub, claims.fam ?? claims.jti);
        return ended > 0 ? replayed() : new AccountError('InvalidToken', 'Refresh token has been revoked');
      }
      let appPassword: AppPassword | undefined;
      if (token.appPasswordId !== null) {
        appPassword = this.appPasswords.byId(token.did, token.appPasswordId);
        if (!appPassword) return new AccountError('InvalidToken', 'The app password of this session was revoked');
      }
      if (token.nextId === null) {
        const next = { ...token, id: newTokenId(), expiresAt: expiryFrom(now) };
        this.#refreshTokens.insert(next);
        this.#refreshTokens.markUsed(token.id, next.id, Math.min(now + REFRESH_RETRY_GRACE_MS, token.expiresAt));
        return { did: token.did, pair: this.#pairOf(next, appPassword) };
      }
      const next = this.#refreshTokens.get(token.nextId);
      if (next && next.nextId === null && token.graceUntil !== null && now < token.graceUntil) {
        return { did: token.did, pair: this.#pairOf(next, appPassword) };
      }
      this.#refreshTokens.deleteFamily(token.did, token.familyId);
      return replayed();
    });
    if (outcome instanceof AccountError) throw outcome;
    return outcome;
  }

  /** Ends the session of a refresh token: its whole family, so no earlier token of it can come back. */
  revoke(refreshJwt: string): string {
    const claims = this.#verifyRefresh(refreshJwt);
    const token = this.#refreshTokens.get(claims.jti);
    this.#refreshTokens.deleteFamily(claims.sub, token?.familyId ?? claims.fam ?? claims.jti);
    return claims.sub;
  }

  revokeAll(did: string): void {
    this.#refreshTokens.deleteAll(did);
  }

  /** The tokens of one step of a session; the same step always yields the same tokens. */
  #pairOf(token: Pick<StoredRefreshToken, 'id' | 'did' | 'familyId' | 'expiresAt'>, appPassword?: AppPassword): SessionPair {
    const scope: AccessScope = !appPassword ? Scope.Access : appPassword.privileged ? Scope.AppPassPrivileged : Scope.AppPass;
    const iat = (token.expiresAt - REFRESH_TOKEN_TTL_MS) / 1000;
    const refresh = this.tokens.createRefresh(token.did, { jti: token.id, iat, family: token.familyId });
    const access = this.tokens.createAccess(token.did, scope, appPassword?.id, { iat, jti: accessIdOf(token.id) });
    return { accessJwt: access.token, refreshJwt: refresh.token };
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
