// The authorization endpoint and its pages. GET shows whichever page the request needs next
// (sign in, choose an account, approve); each POST does one step and answers with a redirect
// (back to GET, or at the end to the client), so reloading a page never repeats a step.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OAuthClient } from '../client/client-metadata.ts';
import { InvalidClientMetadataError, OAuthError } from '../errors.ts';
import { chooserBody, consentBody, errorBody, signInBody, signInCodeBody, type RequestForm } from '../pages/authorize-pages.ts';
import { buildRedirectUrl, RequestNotUsableError, type AuthorizationResult } from '../request/request-service.ts';
import { describeScopes } from '../scope/describe.ts';
import type { RequestRecord } from '../store/types.ts';
import { readParams } from './io.ts';
import { clientView, isSameOriginPost, page, redirect, type PagesContext } from './pages-context.ts';
import { runSignIn } from './sign-in-steps.ts';

interface Step {
  request: RequestRecord;
  client: OAuthClient;
  deviceId: string;
  form: RequestForm;
}

/** Opens the request a page is about; renders the error page (and returns undefined) when it cannot. */
async function openStep(pages: PagesContext, req: IncomingMessage, res: ServerResponse, requestUri: string | undefined, clientId: string | undefined): Promise<Step | undefined> {
  const device = await pages.devices.ensure(req, res, pages.clientIp(req));
  try {
    const request = await pages.oauth.requests.open(requestUri, clientId, device.id);
    const client = await pages.oauth.clients.get(request.clientId);
    const form = { requestUri: requestUri!, clientId: request.clientId, csrf: pages.devices.csrfToken(device.id, request.id) };
    return { request, client, deviceId: device.id, form };
  } catch (err) {
    if (err instanceof RequestNotUsableError) {
      page(pages, res, 'Cannot continue', errorBody('This sign-in cannot continue', err.message), { status: 400 });
      return undefined;
    }
    if (err instanceof InvalidClientMetadataError) {
      page(pages, res, 'App problem', errorBody('This app is misconfigured', err.message), { status: 400 });
      return undefined;
    }
    throw err;
  }
}

const selfHref = (form: RequestForm, extra = '') =>
  `/oauth/authorize?request_uri=${encodeURIComponent(form.requestUri)}&client_id=${encodeURIComponent(form.clientId)}${extra}`;

export async function getAuthorize(pages: PagesContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const step = await openStep(pages, req, res, query.get('request_uri') ?? undefined, query.get('client_id') ?? undefined);
  if (step === undefined) return;
  const { request } = step;
  const params = request.parameters;
  if (query.get('account') === 'new') return showSignIn(pages, res, step, {});
  if (request.did !== null && pages.accounts.view(request.did) !== undefined) return showConsent(pages, res, step);

  const hintDid = params.login_hint === undefined ? undefined : pages.accounts.resolveHint(params.login_hint);
  const remembered = (await pages.devices.rememberedAccounts(step.deviceId)).filter((a) => pages.accounts.state(a.did) === 'active');
  if (params.prompt === 'login') return showSignIn(pages, res, step, {});
  if (hintDid !== undefined && params.prompt !== 'select_account' && remembered.some((a) => a.did === hintDid)) {
    await pages.oauth.requests.setAccount(request, hintDid);
    return showConsent(pages, res, { ...step, request: { ...request, did: hintDid } });
  }
  if (params.prompt === 'none') {
    return finish(pages, res, step, { error: remembered.length === 0 ? 'login_required' : 'account_selection_required', error_description: 'The user must interact to sign in' });
  }
  // The chooser: without a hint, or when the app asks for it (select_account), the hinted account
  // then first and focused. A hint naming no remembered account goes to the sign-in form, filled in.
  if (remembered.length > 0 && (hintDid === undefined || params.prompt === 'select_account')) {
    const ordered = hintDid === undefined ? remembered : [...remembered.filter((a) => a.did === hintDid), ...remembered.filter((a) => a.did !== hintDid)];
    const accounts = ordered.map((a) => pages.accounts.view(a.did)).filter((a) => a !== undefined);
    const body = chooserBody({ client: clientView(pages, step.client), form: step.form, accounts, suggested: hintDid, otherAccountHref: selfHref(step.form, '&account=new') });
    return page(pages, res, 'Choose an account', body, { formTargets: [params.redirect_uri] });
  }
  return showSignIn(pages, res, step, {});
}

function showSignIn(pages: PagesContext, res: ServerResponse, step: Step, opts: { error?: string; identifier?: string; status?: number }): void {
  const hint = step.request.parameters.login_hint;
  const body = signInBody({
    client: clientView(pages, step.client),
    form: step.form,
    identifier: opts.identifier ?? hint,
    error: opts.error,
    lockedIdentifier: hint !== undefined && pages.accounts.resolveHint(hint) !== undefined,
  });
  page(pages, res, 'Sign in', body, { status: opts.status, formTargets: [step.request.parameters.redirect_uri] });
}

async function showConsent(pages: PagesContext, res: ServerResponse, step: Step, error?: string): Promise<void> {
  const { request, client } = step;
  const account = pages.accounts.view(request.did!)!;
  const params = request.parameters;
  const approved = await pages.oauth.store.readAuthorizedScopes(account.did, client.clientId);
  const requested = params.scope.split(' ');
  // Silent sign-in only for confidential clients, and only for scopes the account already approved.
  if (client.authMethod === 'private_key_jwt' && params.prompt !== 'consent' && approved !== undefined && requested.every((s) => approved.includes(s))) {
    return approve(pages, res, step);
  }
  if (params.prompt === 'none') return finish(pages, res, step, { error: 'consent_required', error_description: 'The user must approve this app' });
  const body = consentBody({
    client: clientView(pages, client),
    form: step.form,
    account,
    permissions: describeScopes(params.scope, pages.oauth.permissionSetTitles),
    switchHref: selfHref(step.form, '&account=new'),
    error,
  });
  page(pages, res, 'Authorize app', body, { formTargets: [params.redirect_uri] });
}

async function approve(pages: PagesContext, res: ServerResponse, step: Step): Promise<void> {
  const code = await pages.oauth.requests.approve(step.request);
  await pages.oauth.store.addAuthorizedScopes(step.request.did!, step.client.clientId, step.request.parameters.scope.split(' '), new Date());
  finish(pages, res, step, { code });
}

function finish(pages: PagesContext, res: ServerResponse, step: Step, result: AuthorizationResult): void {
  redirect(res, buildRedirectUrl(step.request.parameters, pages.oauth.issuer, result));
}

/** Every form post: same origin, the step's CSRF token, the request still open in this browser. */
async function openPostedStep(pages: PagesContext, req: IncomingMessage, res: ServerResponse): Promise<{ step: Step; form: Record<string, string> } | undefined> {
  if (!isSameOriginPost(req, pages.oauth.issuer)) {
    page(pages, res, 'Refused', errorBody('Request refused', 'This form was sent from another site.'), { status: 403 });
    return undefined;
  }
  const form = await readParams(req);
  const device = await pages.devices.find(req);
  if (device === undefined) {
    page(pages, res, 'Cookies needed', errorBody('Cookies are needed', 'This browser did not send back the cookie these pages set. Allow cookies for this site, then return to the app and try again.'), { status: 400 });
    return undefined;
  }
  const step = await openStep(pages, req, res, form.request_uri, form.client_id);
  if (step === undefined) return undefined;
  if (!pages.devices.checkCsrf(device.id, step.request.id, form.csrf)) {
    page(pages, res, 'Refused', errorBody('Request refused', 'This form has expired. Go back, reload the page and try again.'), { status: 403 });
    return undefined;
  }
  return { step, form };
}

export async function postSignIn(pages: PagesContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const posted = await openPostedStep(pages, req, res);
  if (posted === undefined) return;
  const { step } = posted;
  const outcome = await runSignIn(pages, req, step.deviceId, step.request.id, posted.form);
  if (outcome.kind === 'password') return showSignIn(pages, res, step, { error: outcome.message, identifier: outcome.identifier, status: outcome.status });
  if (outcome.kind === 'code') {
    const body = signInCodeBody({ client: clientView(pages, step.client), form: step.form, ...outcome, restartHref: selfHref(step.form, '&account=new') });
    return page(pages, res, 'Sign in', body, { status: outcome.status, formTargets: [step.request.parameters.redirect_uri] });
  }
  const { did } = outcome;
  const hint = step.request.parameters.login_hint;
  const hintDid = hint === undefined ? undefined : pages.accounts.resolveHint(hint);
  if (hintDid !== undefined && hintDid !== did) {
    return showSignIn(pages, res, step, { error: `This app asked to sign in as ${hint}. Sign in with that account, or cancel and start again in the app.`, status: 400 });
  }
  await pages.devices.signedIn(step.deviceId, did, outcome.remember);
  await pages.oauth.requests.setAccount(step.request, did);
  redirect(res, selfHref(step.form));
}

export async function postSelect(pages: PagesContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const posted = await openPostedStep(pages, req, res);
  if (posted === undefined) return;
  const { step, form } = posted;
  const remembered = await pages.devices.rememberedAccounts(step.deviceId);
  if (!remembered.some((a) => a.did === form.did) || pages.accounts.state(form.did) !== 'active') {
    return showSignIn(pages, res, step, { error: 'That account is no longer signed in on this device. Sign in again.', status: 400 });
  }
  await pages.oauth.requests.setAccount(step.request, form.did);
  redirect(res, selfHref(step.form));
}

export async function postConsent(pages: PagesContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const posted = await openPostedStep(pages, req, res);
  if (posted === undefined) return;
  const { step, form } = posted;
  if (form.decision === 'deny') {
    await pages.oauth.requests.deny(step.request);
    return finish(pages, res, step, { error: 'access_denied', error_description: 'The user denied access' });
  }
  if (form.decision !== 'allow') throw new OAuthError('invalid_request', 'decision must be allow or deny');
  if (step.request.did === null || pages.accounts.state(step.request.did) !== 'active') {
    return showSignIn(pages, res, step, { error: 'Sign in first.', status: 400 });
  }
  return approve(pages, res, step);
}
