// Session and token lifetimes, as the atproto OAuth spec sets them ("Tokens and Session Lifetime").
import type { ClientAuth } from '../client/client-auth.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Public clients: two weeks for the whole session, and for each refresh token within it. */
export const PUBLIC_SESSION_MS = 14 * DAY_MS;
/** Confidential clients: no limit on the session; each refresh token lasts 180 days. */
export const CONFIDENTIAL_REFRESH_MS = 180 * DAY_MS;
const UNLIMITED_MS = 100 * 365 * DAY_MS;

/** A pushed request must be used within this long; each step on the pages extends it (up to an hour). */
export const PAR_TTL_MS = 5 * 60_000;
export const AUTHORIZE_INACTIVITY_MS = 10 * 60_000;
export const AUTHORIZE_MAX_MS = 60 * 60_000;
/** An authorization code must be exchanged within this long. */
export const CODE_TTL_MS = 2 * 60_000;

export function sessionExpiry(auth: ClientAuth, createdAt: Date): Date {
  return new Date(createdAt.getTime() + (auth.method === 'none' ? PUBLIC_SESSION_MS : UNLIMITED_MS));
}

export function refreshExpiry(auth: ClientAuth, now: Date, sessionExpiresAt: Date): Date {
  const own = now.getTime() + (auth.method === 'none' ? PUBLIC_SESSION_MS : CONFIDENTIAL_REFRESH_MS);
  return new Date(Math.min(own, sessionExpiresAt.getTime()));
}
