import { normalizeIdentifier, type AccountStore } from '../accounts/account-store.ts';
import type { AppContext } from '../context.ts';
import type { RateLimitInfo, RateLimitSpec } from '../xrpc/index.ts';

const MINUTE = 60_000;

/**
 * What per-account login limits count by: the account's DID, however the identifier was spelled
 * (handle, email or DID; case, spaces, a leading `@`). An identifier that names no account counts
 * by its normalised form, so a limited account and an unknown one answer alike.
 */
export function loginAccountKey(accounts: Pick<AccountStore, 'didByIdentifier'>, identifier: string): string {
  return accounts.didByIdentifier(identifier) ?? `unknown:${normalizeIdentifier(identifier)}`;
}

const loginKey = ({ ctx, input }: RateLimitInfo<AppContext>) => loginAccountKey(ctx.accounts, String((input as { identifier?: unknown }).identifier ?? ''));

/**
 * Password logins, wherever a password is typed: createSession and the OAuth sign-in page share
 * these buckets (one limiter), so neither is a way around the other. The official PDS's limits:
 * 30 per 5 minutes and 300 per day for one account, 100 per 5 minutes from one client.
 */
export const LOGIN_RATE_LIMITS: readonly RateLimitSpec<AppContext>[] = [
  { name: 'login-ip', points: 100, windowMs: 5 * MINUTE },
  { name: 'login-id-5m', points: 30, windowMs: 5 * MINUTE, key: loginKey },
  { name: 'login-id-day', points: 300, windowMs: 24 * 60 * MINUTE, key: loginKey },
];
