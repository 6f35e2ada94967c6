// The authorized-apps page: the apps each account signed in on this device has let in, what
// each may do, and a button to take that access back.
import type { PermissionLine } from '../scope/describe.ts';
import { html, type Html } from './html.ts';
import { clientBlock, codeStepForm, errorAlert, hiddenFields, noticeAlert, type ClientView } from './parts.ts';

export interface AuthorizedApp {
  client: ClientView;
  permissions: PermissionLine[];
  authorizedAt: Date;
  lastUsedAt: Date;
  sessions: number;
}

export interface AccountApps {
  did: string;
  handle: string;
  apps: AuthorizedApp[];
}

const day = (d: Date) => d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

export function accountSignInBody(opts: { csrf: string; error?: string; identifier?: string }): Html {
  return html`<div class="card">
<h1>Your authorized apps</h1>
<p class="lede">Sign in to see the apps that can use your account, and to remove them.</p>
${errorAlert(opts.error)}
<form method="post" action="/oauth/account/sign-in">
${hiddenFields({ csrf: opts.csrf })}
<label for="identifier">Handle or email</label>
<input id="identifier" name="identifier" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${opts.identifier ?? ''}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label class="check"><input type="checkbox" name="remember" value="1" checked> Remember this account on this device</label>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>
</div>`;
}

/** The authorized-apps page's code step (email as a second factor): the mailed code alone. */
export function accountCodeBody(opts: { csrf: string; pending: string; handle: string; message: string; notice: boolean }): Html {
  return html`<div class="card">
<h1>Enter the code from your email</h1>
<p class="lede">to see the apps that can use your account</p>
${codeStepForm({ action: '/oauth/account/sign-in', fields: { csrf: opts.csrf }, pending: opts.pending, handle: opts.handle, message: opts.message, notice: opts.notice })}
<p class="after-actions"><a href="/oauth/account?sign-in=1">Sign in again</a></p>
</div>`;
}

export function accountAppsBody(opts: { csrf: string; accounts: AccountApps[]; notice?: string }): Html {
  return html`<div class="card">
<h1>Your authorized apps</h1>
${noticeAlert(opts.notice)}
${opts.accounts.map((account) => accountSection(account, opts.csrf))}
<p class="meta"><a href="/oauth/account?sign-in=1">Sign in with another account</a></p>
</div>`;
}

function accountSection(account: AccountApps, csrf: string): Html {
  const headingId = `account-${account.did.replace(/[^a-z0-9]/gi, '-')}`;
  return html`<section aria-labelledby="${headingId}">
<h2 id="${headingId}">@${account.handle}</h2>
${
  account.apps.length === 0
    ? html`<p>No apps can use this account.</p>`
    : html`<ul class="apps">${account.apps.map((app) => appItem(account.did, app, csrf))}</ul>`
}
<form method="post" action="/oauth/account/sign-out">${hiddenFields({ csrf, did: account.did })}<button class="link" type="submit">Sign @${account.handle} out of this device</button></form>
</section>`;
}

function appItem(did: string, app: AuthorizedApp, csrf: string): Html {
  return html`<li>
${clientBlock(app.client)}
<p class="meta">Authorized on ${day(app.authorizedAt)}, last used on ${day(app.lastUsedAt)}${app.sessions > 1 ? ` (${app.sessions} sessions)` : ''}.</p>
<ul class="permissions">${app.permissions.map((p) => html`<li>${p.text}${p.detail ? html`<span class="detail">${p.detail}</span>` : ''}</li>`)}</ul>
<form method="post" action="/oauth/account/revoke">
${hiddenFields({ csrf, did, client_id: app.client.clientId })}
<button class="danger" type="submit" aria-label="Revoke access for ${app.client.name}">Revoke access</button>
</form>
</li>`;
}
