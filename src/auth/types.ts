import type { AccountStatus } from '../accounts/account-store.ts';
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
  readonly scope: AccessScope;
  /** The app password this session was opened with, if any. */
  readonly appPassword?: string;
  /** Full sessions and privileged app passwords: may manage credentials, email, PLC. */
  readonly privileged: boolean;
  readonly status: AccountStatus;
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
