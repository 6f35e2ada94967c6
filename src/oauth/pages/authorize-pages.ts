// The pages of an authorization: sign in, choose an account, approve or deny.
import type { PermissionLine } from '../scope/describe.ts';
import { html, type Html } from './html.ts';
import { clientBlock, codeStepForm, errorAlert, hiddenFields, type ClientView } from './parts.ts';

export interface RequestForm {
  requestUri: string;
  clientId: string;
  csrf: string;
}

export interface AccountChoice {
  did: string;
  handle: string;
}

const fields = (form: RequestForm) => hiddenFields({ request_uri: form.requestUri, client_id: form.clientId, csrf: form.csrf });

/** A separate form the "Cancel" / "Deny access" buttons submit (they sit beside other forms' buttons). */
function denyForm(form: RequestForm): Html {
  return html`<form id="deny" method="post" action="/oauth/authorize/consent">${fields(form)}<input type="hidden" name="decision" value="deny"></form>`;
}

export function signInBody(opts: { client: ClientView; form: RequestForm; identifier?: string; error?: string; lockedIdentifier: boolean }): Html {
  return html`<div class="card">
<h1>Sign in</h1>
<p class="lede">to continue to <strong>${opts.client.name}</strong></p>
${errorAlert(opts.error)}
<form method="post" action="/oauth/authorize/sign-in">
${fields(opts.form)}
<label for="identifier">Handle or email</label>
<input id="identifier" name="identifier" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${opts.identifier ?? ''}"${opts.lockedIdentifier ? html` readonly` : ''}${opts.identifier ? '' : html` autofocus`}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${opts.identifier ? html` autofocus` : ''}>
<label class="check"><input type="checkbox" name="remember" value="1" checked> Remember this account on this device</label>
<div class="actions">
<button class="primary" type="submit">Sign in</button>
<button class="secondary" type="submit" form="deny">Cancel</button>
</div>
</form>
${denyForm(opts.form)}
</div>`;
}

/** The second step for an account with email as a second factor: the mailed code, and nothing else. */
export function signInCodeBody(opts: { client: ClientView; form: RequestForm; pending: string; handle: string; message: string; notice: boolean; restartHref: string }): Html {
  return html`<div class="card">
<h1>Enter the code from your email</h1>
<p class="lede">to continue to <strong>${opts.client.name}</strong></p>
${codeStepForm({
  action: '/oauth/authorize/sign-in',
  fields: { request_uri: opts.form.requestUri, client_id: opts.form.clientId, csrf: opts.form.csrf },
  pending: opts.pending,
  handle: opts.handle,
  message: opts.message,
  notice: opts.notice,
  extraActions: html`<button class="secondary" type="submit" form="deny">Cancel</button>`,
})}
<p class="after-actions"><a href="${opts.restartHref}">Sign in again</a></p>
${denyForm(opts.form)}
</div>`;
}

/** The accounts remembered on this device; `suggested` (the app's login_hint) is marked and focused. */
export function chooserBody(opts: { client: ClientView; form: RequestForm; accounts: AccountChoice[]; suggested?: string; error?: string; otherAccountHref: string }): Html {
  return html`<div class="card">
<h1>Choose an account</h1>
<p class="lede">to continue to <strong>${opts.client.name}</strong></p>
${errorAlert(opts.error)}
<form method="post" action="/oauth/authorize/select">
${fields(opts.form)}
<ul class="accounts">
${opts.accounts.map((a) => {
  const suggested = a.did === opts.suggested;
  return html`<li><button type="submit" name="did" value="${a.did}"${suggested ? html` aria-describedby="suggested" autofocus` : ''}><span class="handle">@${a.handle}</span><span class="did">${a.did}</span>${
    suggested ? html`<span class="suggested" id="suggested">Requested by the app</span>` : ''
  }</button></li>`;
})}
</ul>
</form>
<p><a href="${opts.otherAccountHref}">Use another account</a></p>
<div class="actions"><button class="secondary" type="submit" form="deny">Cancel</button></div>
${denyForm(opts.form)}
</div>`;
}

export function consentBody(opts: { client: ClientView; form: RequestForm; account: AccountChoice; permissions: PermissionLine[]; switchHref: string; error?: string }): Html {
  return html`<div class="card">
<h1>Authorize ${opts.client.name}?</h1>
${clientBlock(opts.client)}
${errorAlert(opts.error)}
<p class="who">Signed in as <strong>@${opts.account.handle}</strong>. <a href="${opts.switchHref}">Use another account</a></p>
<h2 id="permissions">This app will be able to:</h2>
<ul class="permissions" aria-labelledby="permissions">
${opts.permissions.map((p) => html`<li>${p.text}${p.detail ? html`<span class="detail">${p.detail}</span>` : ''}</li>`)}
</ul>
<form method="post" action="/oauth/authorize/consent">
${fields(opts.form)}
<div class="actions">
<button class="primary" type="submit" name="decision" value="allow">Authorize</button>
<button class="secondary" type="submit" name="decision" value="deny">Deny access</button>
</div>
</form>
<p class="meta">You can take this access back at any time on <a href="/oauth/account">your authorized apps</a> page.</p>
</div>`;
}

export function errorBody(title: string, message: string): Html {
  return html`<div class="card">
<h1>${title}</h1>
<div class="alert error" role="alert">${message}</div>
<p class="meta">You can close this page and return to the app.</p>
</div>`;
}
