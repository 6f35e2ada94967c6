import { isValidHandle } from '../syntax/index.ts';
import { AccountError } from './errors.ts';

/**
 * Names nobody may register under this PDS's own domains: they would impersonate the service,
 * its operators or well-known protocol endpoints.
 */
const RESERVED = new Set([
  'about', 'abuse', 'account', 'accounts', 'admin', 'administrator', 'api', 'app', 'appview', 'atproto',
  'auth', 'billing', 'blog', 'bsky', 'bluesky', 'cdn', 'contact', 'dev', 'dns', 'docs', 'email', 'feed',
  'feeds', 'ftp', 'help', 'host', 'hostmaster', 'imap', 'info', 'legal', 'login', 'mail', 'mod',
  'moderation', 'moderator', 'mx', 'news', 'noreply', 'no-reply', 'ns1', 'ns2', 'oauth', 'official',
  'ozone', 'pds', 'plc', 'pop', 'pop3', 'postmaster', 'press', 'privacy', 'relay', 'root', 'security',
  'server', 'service', 'signup', 'smtp', 'staff', 'status', 'support', 'sync', 'system', 'team', 'terms',
  'test', 'tos', 'webmaster', 'www', 'xrpc',
]);

/** Length of the first label of a handle under a service domain, as the official PDS allows. */
export const SERVICE_HANDLE_MIN = 3;
export const SERVICE_HANDLE_MAX = 18;

export function normalizeHandle(handle: string): string {
  return handle.trim().toLowerCase();
}

/** Whether the handle lies under one of the PDS's own domains (`.example.com`). */
export function serviceDomainOf(handle: string, domains: readonly string[]): string | undefined {
  return domains.find((domain) => handle.endsWith(domain));
}

/**
 * Checks a handle a user asks for. Under a service domain: one label of 3-18 letters, digits
 * or hyphens, not reserved. Any other handle must be valid syntax; whether the user controls it
 * is checked by resolution elsewhere.
 */
export function checkHandle(input: string, domains: readonly string[], opts: { allowExternal: boolean }): string {
  const handle = normalizeHandle(input);
  if (!isValidHandle(handle)) throw new AccountError('InvalidHandle', 'Handle is not a valid domain name');
  const domain = serviceDomainOf(handle, domains);
  if (!domain) {
    if (!opts.allowExternal) {
      throw new AccountError('UnsupportedDomain', `Handle must end with one of: ${domains.join(', ')}`);
    }
    return handle;
  }
  const front = handle.slice(0, -domain.length);
  if (front.includes('.')) throw new AccountError('InvalidHandle', 'Handle under this server must be a single name, without dots');
  if (front.length < SERVICE_HANDLE_MIN) throw new AccountError('InvalidHandle', `Handle is too short (at least ${SERVICE_HANDLE_MIN} characters)`);
  if (front.length > SERVICE_HANDLE_MAX) throw new AccountError('InvalidHandle', `Handle is too long (at most ${SERVICE_HANDLE_MAX} characters)`);
  if (RESERVED.has(front)) throw new AccountError('HandleNotAvailable', 'Handle is reserved');
  return handle;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{1,63}$/;

export function checkEmail(email: string): string {
  const normalized = email.trim().toLowerCase();
  if (normalized.length > 254 || !EMAIL.test(normalized)) throw new AccountError('InvalidEmail', 'Email address is not valid');
  return normalized;
}

/** Password rules: long enough to mean something, short enough that scrypt input stays bounded. */
export function checkPassword(password: string): void {
  if (password.length < 8) throw new AccountError('InvalidPassword', 'Password must be at least 8 characters');
  if (password.length > 256) throw new AccountError('InvalidPassword', 'Password must be at most 256 characters');
}
