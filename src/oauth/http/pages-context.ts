// What the authorization pages need from the rest of the server, as one small interface (the
// router builds it from the application context): accounts by DID, sign-in with a password (and
// the emailed code when the account has email as a second factor), the client's IP, the server's name.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountState } from '../../accounts/account-policy.ts';
import type { OAuthClient } from '../client/client-metadata.ts';
import type { OAuthProvider } from '../provider.ts';
import type { AccountChoice } from '../pages/authorize-pages.ts';
import { sendPage } from '../pages/layout.ts';
import type { Html } from '../pages/html.ts';
import type { ClientView } from '../pages/parts.ts';
import type { DeviceSessions } from './devices.ts';
import type { PendingSignIns } from './pending-sign-ins.ts';

/** A password that checked out for an account that also owes the code mailed to it. */
export interface FirstFactor {
  readonly did: string;
  /** Names the password that was checked (opaque): the code step fails if it has changed since. */
  readonly stamp: string;
}

/** Signing in failed, or needs one more step: the message is shown on the page as it is. */
export class SignInError extends Error {
  override name = 'SignInError';
  constructor(
    message: string,
    readonly status = 401,
    readonly next: {
      /** Not a failure to show in red: what to do next (a code was mailed). */
      notice?: boolean;
      /** The password checked out; the account's emailed code is still owed (the page asks for it alone). */
      firstFactor?: FirstFactor;
      /** The code step cannot go on (the code expired, the password changed): ask for the password again. */
      restart?: boolean;
    } = {},
  ) {
    super(message);
  }
}

export interface AccountDirectory {
  /** Handle and DID of an account that may use apps (exists and is not taken down). */
  view(did: string): AccountChoice | undefined;
  state(did: string): AccountState | undefined;
  /** The local account a `login_hint` (handle, DID or email) names, if any. */
  resolveHint(hint: string): string | undefined;
  /**
   * Checks a password sign-in and returns the account's DID. Throws SignInError (wrong
   * credentials, rate limit, app password, taken-down account, and for an account with email as
   * a second factor a missing, wrong or expired `code`: without one, a code is mailed; either way
   * the error carries the checked first factor). With `completeSignIn`, the one place the pages
   * authenticate a person.
   */
  signIn(identifier: string, password: string, ip: string, code?: string): Promise<string>;
  /** The second step: the emailed code of an account whose password checked out (`first`). Throws SignInError. */
  completeSignIn(first: FirstFactor, code: string, ip: string): Promise<string>;
}

export interface PagesContext {
  oauth: OAuthProvider;
  devices: DeviceSessions;
  /** Passwords checked while the emailed code is still owed. */
  pendingSignIns: PendingSignIns;
  accounts: AccountDirectory;
  serverName: string;
  clientIp: (req: IncomingMessage) => string;
}

export function clientView(pages: PagesContext, client: OAuthClient): ClientView {
  const host = client.kind === 'loopback' ? 'localhost' : new URL(client.clientId).host;
  return {
    clientId: client.clientId,
    name: client.name ?? host,
    host,
    uri: client.uri,
    logoUri: client.logoUri,
    trusted: pages.oauth.clients.isTrusted(client.clientId),
    loopback: client.kind === 'loopback',
  };
}

export function page(pages: PagesContext, res: ServerResponse, title: string, body: Html, opts: { status?: number; formTargets?: readonly string[] } = {}): void {
  sendPage(res, { title, serverName: pages.serverName, body, status: opts.status, formTargets: opts.formTargets });
}

/**
 * Form posts must come from these pages: the Origin (or, without one, Sec-Fetch-Site) must say
 * so, on top of the CSRF token each form carries.
 */
export function isSameOriginPost(req: IncomingMessage, issuer: string): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === issuer;
  const site = req.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin';
}

export function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 303;
  res.setHeader('Location', location);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', '0');
  res.end();
}
