import type { AccountState } from '../accounts/account-policy.ts';
import type { OAuthCredentials } from '../oauth/resource.ts';
import type { ServiceAuth } from './service-auth-verifier.ts';
import type { AccessScope } from './session-jwt.ts';

/** Who is calling, as established by an auth verifier. */
export type AuthState = NoAuth | AdminAuth | AccessAuth | RefreshAuth | ServiceAuth;

export interface NoAuth {
  readonly type: 'none';
}

export interface AdminAuth {
  readonly type: 'admin';
}

export interface AccessAuth {
  readonly type: 'access';
  readonly did: string;
  /** The session token's scope, or `oauth` for an OAuth access token (whose grant is in `oauth`). */
  readonly scope: AccessScope | 'oauth';
  /** Id of the app password this session was opened with, if any. */
  readonly appPasswordId?: string;
  /**
   * Signed in with the account password (not an app password): the only sessions that may manage
   * the account, its credentials, email and identity. Never an OAuth token (its scope decides).
   */
  readonly full: boolean;
  /**
   * May reach privileged methods (`isPrivilegedMethod`: chat.bsky.*, by service token or proxy):
   * full sessions and privileged app passwords. It unlocks nothing else. Never an OAuth token.
   */
  readonly privileged: boolean;
  /** The account's state as of this request: methods ask `allows(state, action)` (account-policy.ts). */
  readonly state: AccountState;
  /** Present for an OAuth access token: the client and what its grant allows (methods check it). */
  readonly oauth?: OAuthCredentials;
}

export interface RefreshAuth {
  readonly type: 'refresh';
  readonly did: string;
  readonly token: string;
}

/** The access auth of a handler whose method requires one (narrowing helper). */
export function requireAccess(auth: AuthState): AccessAuth {
  if (auth.type !== 'access') throw new Error(`expected access auth, got ${auth.type}`);
  return auth;
}
