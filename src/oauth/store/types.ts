// What OAuth keeps, as interfaces an asynchronous database can implement (every method may
// return a promise; callers always await). The SQLite implementation answers synchronously.
import type { ClientAuth } from '../client/client-auth.ts';
import type { AuthorizationParameters } from '../request/parameters.ts';

type Awaitable<T> = T | Promise<T>;

export interface RequestRecord {
  id: string;
  clientId: string;
  clientAuth: ClientAuth;
  parameters: AuthorizationParameters;
  dpopJkt: string;
  /** The browser that opened the request first: only it may continue it. */
  deviceId: string | null;
  /** The account chosen on the pages. */
  did: string | null;
  /** SHA-256 of the authorization code, once the user has approved. */
  codeHash: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface SessionRecord {
  id: string;
  did: string;
  clientId: string;
  clientAuth: ClientAuth;
  dpopJkt: string;
  /** The granted scope, as the token response states it. */
  scope: string;
  /** The granted permissions with `include:` sets expanded: what requests are checked against. */
  permissions: string;
  parameters: AuthorizationParameters;
  codeHash: string | null;
  refreshHash: string | null;
  deviceId: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  refreshExpiresAt: Date;
}

/** The few columns checked on every resource request. */
export interface ActiveSession {
  did: string;
  permissions: string;
  expiresAt: Date;
}

export interface RequestStore {
  createRequest(request: RequestRecord): Awaitable<void>;
  readRequest(id: string): Awaitable<RequestRecord | undefined>;
  updateRequest(id: string, patch: Partial<Pick<RequestRecord, 'deviceId' | 'did' | 'codeHash' | 'expiresAt'>>): Awaitable<void>;
  /** Removes and returns the request a code was issued for (a code works once). */
  takeRequestByCode(codeHash: string): Awaitable<RequestRecord | undefined>;
  deleteRequest(id: string): Awaitable<void>;
  /** Drops requests past their expiry; returns how many. */
  deleteExpiredRequests(now: Date): Awaitable<number>;
}

export interface SessionStore {
  createSession(session: SessionRecord): Awaitable<void>;
  readSession(id: string): Awaitable<SessionRecord | undefined>;
  /** The hot path: is this session still there, and for whom. */
  readActiveSession(id: string): Awaitable<ActiveSession | undefined>;
  findSessionByRefresh(refreshHash: string): Awaitable<SessionRecord | undefined>;
  findSessionByCode(codeHash: string): Awaitable<SessionRecord | undefined>;
  /** The session a refresh token belonged to before it was rotated away. */
  findSessionByUsedRefresh(refreshHash: string): Awaitable<string | undefined>;
  /**
   * Replaces the session's refresh token if it is still `oldHash`, remembering the old one as
   * used. False when another refresh won the race.
   */
  rotateRefresh(id: string, oldHash: string, next: Pick<SessionRecord, 'refreshHash' | 'updatedAt' | 'refreshExpiresAt' | 'permissions'>): Awaitable<boolean>;
  deleteSession(id: string): Awaitable<void>;
  listSessions(did: string): Awaitable<SessionRecord[]>;
}

export interface DeviceRecord {
  id: string;
  secretHash: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  lastSeenAt: Date;
}

export interface DeviceAccount {
  did: string;
  authenticatedAt: Date;
  remember: boolean;
}

export interface DeviceStore {
  createDevice(device: DeviceRecord): Awaitable<void>;
  readDevice(id: string): Awaitable<DeviceRecord | undefined>;
  touchDevice(id: string, seen: { lastSeenAt: Date; userAgent: string | null; ip: string | null }): Awaitable<void>;
  upsertDeviceAccount(deviceId: string, account: DeviceAccount): Awaitable<void>;
  listDeviceAccounts(deviceId: string): Awaitable<DeviceAccount[]>;
  removeDeviceAccount(deviceId: string, did: string): Awaitable<void>;
}

export interface AuthorizedClientStore {
  /** The scopes this account has approved for this client before, if any. */
  readAuthorizedScopes(did: string, clientId: string): Awaitable<string[] | undefined>;
  addAuthorizedScopes(did: string, clientId: string, scopes: readonly string[], now: Date): Awaitable<void>;
  removeAuthorizedClient(did: string, clientId: string): Awaitable<void>;
}

export interface OAuthStore extends RequestStore, SessionStore, DeviceStore, AuthorizedClientStore {}
