// Pieces the pages share: who the client is (with its verified / unverified / development mark),
// hidden form fields, alerts.
import { html, type Html } from './html.ts';

export interface ClientView {
  clientId: string;
  /** The name to show: the client's own `client_name`, or its host. */
  name: string;
  host: string;
  uri?: string;
  logoUri?: string;
  /** The operator listed this client as trusted (PDS_OAUTH_TRUSTED_CLIENTS). */
  trusted: boolean;
  /** An `http://localhost` development client. */
  loopback: boolean;
}

export function clientBlock(client: ClientView): Html {
  const mark = client.loopback
    ? html`<span class="badge warn">Development app (localhost)</span>`
    : client.trusted
      ? html`<span class="badge ok">Verified</span>`
      : html`<span class="badge warn">Unverified</span>`;
  // Logos only for trusted clients: anyone can publish metadata with someone else's logo.
  const picture = client.trusted && client.logoUri ? html`<img src="${client.logoUri}" alt="">` : html`<span class="initial" aria-hidden="true">${initialOf(client.name)}</span>`;
  const note = client.loopback
    ? html`<p class="meta">This app runs on a computer (possibly yours) for development. Nobody has checked who made it.</p>`
    : client.trusted
      ? ''
      : html`<p class="meta">The app chose its own name; this server has not checked it. It is published at <strong>${client.host}</strong>.</p>`;
  return html`<div class="client">${picture}<div><div class="name">${client.name} ${mark}</div><div class="id">${client.clientId}</div>${
    client.uri ? html`<div class="id"><a href="${client.uri}" rel="noopener noreferrer">${client.uri}</a></div>` : ''
  }</div></div>${note}`;
}

export function hiddenFields(fields: Record<string, string | undefined>): Html {
  return html`${Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}`;
}

export function errorAlert(message: string | undefined): Html {
  return message ? html`<div class="alert error" role="alert">${message}</div>` : html``;
}

export function noticeAlert(message: string | undefined): Html {
  return message ? html`<div class="alert notice" role="status">${message}</div>` : html``;
}

function initialOf(name: string): string {
  const letter = [...name.replace(/^https?:\/\//, '')].find((c) => /\p{L}|\p{N}/u.test(c));
  return (letter ?? '?').toUpperCase();
}

/** The sign-in code mailed to an account with email as a second factor: the one field of the code step. */
export function emailCodeField(): Html {
  return html`<label for="code">Code from your email</label>
<input id="code" name="code" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required placeholder="XXXXX-XXXXX" autofocus>`;
}

/** The code step's form: the pending sign-in it continues (see http/pending-sign-ins.ts) and the code. */
export function codeStepForm(opts: { action: string; fields: Record<string, string>; pending: string; handle: string; message: string; notice: boolean; extraActions?: Html }): Html {
  return html`<p class="who">Signing in as <strong>@${opts.handle}</strong></p>
${opts.notice ? noticeAlert(opts.message) : errorAlert(opts.message)}
<form method="post" action="${opts.action}">
${hiddenFields({ ...opts.fields, pending: opts.pending })}
${emailCodeField()}
<div class="actions">
<button class="primary" type="submit">Sign in</button>
${opts.extraActions ?? ''}
</div>
</form>`;
}
