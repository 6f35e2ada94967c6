// The authorized-apps page (`/oauth/account`): sign in on this device, see which apps may use each
// signed-in account and with what permissions, revoke them, sign out.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidClientMetadataError } from '../errors.ts';
import { errorBody } from '../pages/authorize-pages.ts';
import { accountAppsBody, accountCodeBody, accountSignInBody, type AccountApps, type AuthorizedApp } from '../pages/account-page.ts';
import type { ClientView } from '../pages/parts.ts';
import { describeScopes } from '../scope/describe.ts';
import type { SessionRecord } from '../store/types.ts';
import { readParams } from './io.ts';
import { clientView, isSameOriginPost, page, redirect, type PagesContext } from './pages-context.ts';
import { runSignIn } from './sign-in-steps.ts';

const CSRF_PURPOSE = 'account';
const NOTICES: Record<string, string> = { revoked: 'Access revoked: the app has been signed out.', 'signed-out': 'Signed out of this device.' };

export async function getAccountPage(pages: PagesContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const device = await pages.devices.ensure(req, res, pages.clientIp(req));
  const csrf = pages.devices.csrfToken(device.id, CSRF_PURPOSE);
  const signedIn = await signedInAccounts(pages, device.id);
  if (signedIn.length === 0 || query.get('sign-in') === '1') return page(pages, res, 'Authorized apps', accountSignInBody({ csrf }));
  const accounts: AccountApps[] = [];
  for (const did of signedIn) {
    const view = pages.accounts.view(did);
    if (view === undefined) continue;
    accounts.push({ did, handle: view.handle, apps: await appsOf(pages, await pages.oauth.store.listSessions(did)) });
  }
  page(pages, res, 'Authorized apps', accountAppsBody({ csrf, accounts, notice: NOTICES[query.get('done') ?? ''] }));
}

export async function postAccount(pages: PagesContext, req: IncomingMessage, res: ServerResponse, action: 'sign-in' | 'revoke' | 'sign-out'): Promise<void> {
  if (!isSameOriginPost(req, pages.oauth.issuer)) return page(pages, res, 'Refused', errorBody('Request refused', 'This form was sent from another site.'), { status: 403 });
  const form = await readParams(req);
  const device = await pages.devices.find(req);
  if (device === undefined || !pages.devices.checkCsrf(device.id, CSRF_PURPOSE, form.csrf)) {
    return page(pages, res, 'Refused', errorBody('Request refused', 'This form has expired. Reload the page and try again.'), { status: 403 });
  }
  if (action === 'sign-in') {
    const outcome = await runSignIn(pages, req, device.id, CSRF_PURPOSE, form);
    if (outcome.kind === 'password') {
      return page(pages, res, 'Authorized apps', accountSignInBody({ csrf: form.csrf, error: outcome.message, identifier: outcome.identifier }), { status: outcome.status });
    }
    if (outcome.kind === 'code') return page(pages, res, 'Authorized apps', accountCodeBody({ csrf: form.csrf, ...outcome }), { status: outcome.status });
    await pages.devices.signedIn(device.id, outcome.did, outcome.remember);
    return redirect(res, '/oauth/account');
  }
  // Only accounts signed in on this very device may be acted on.
  if (!(await signedInAccounts(pages, device.id)).includes(form.did)) {
    return page(pages, res, 'Refused', errorBody('Request refused', 'That account is not signed in on this device.'), { status: 403 });
  }
  if (action === 'sign-out') {
    await pages.devices.signOut(device.id, form.did);
    return redirect(res, '/oauth/account?done=signed-out');
  }
  const sessions = (await pages.oauth.store.listSessions(form.did)).filter((s) => s.clientId === form.client_id);
  for (const session of sessions) await pages.oauth.store.deleteSession(session.id);
  await pages.oauth.store.removeAuthorizedClient(form.did, form.client_id);
  redirect(res, '/oauth/account?done=revoked');
}

/** Accounts this device may show: remembered ones, and any signed in within the last quarter hour. */
async function signedInAccounts(pages: PagesContext, deviceId: string): Promise<string[]> {
  const recent = Date.now() - 15 * 60_000;
  const remembered = new Set((await pages.devices.rememberedAccounts(deviceId)).map((a) => a.did));
  const all = await pages.oauth.store.listDeviceAccounts(deviceId);
  return all.filter((a) => remembered.has(a.did) || a.authenticatedAt.getTime() > recent).map((a) => a.did);
}

async function appsOf(pages: PagesContext, sessions: SessionRecord[]): Promise<AuthorizedApp[]> {
  const byClient = new Map<string, SessionRecord[]>();
  for (const session of sessions) byClient.set(session.clientId, [...(byClient.get(session.clientId) ?? []), session]);
  const apps: AuthorizedApp[] = [];
  for (const [clientId, list] of byClient) {
    apps.push({
      client: await viewOf(pages, clientId),
      permissions: describeScopes([...new Set(list.flatMap((s) => s.scope.split(' ')))].join(' '), pages.oauth.permissionSetTitles),
      authorizedAt: new Date(Math.min(...list.map((s) => s.createdAt.getTime()))),
      lastUsedAt: new Date(Math.max(...list.map((s) => s.updatedAt.getTime()))),
      sessions: list.length,
    });
  }
  return apps;
}

/** How the page names a client: from its (cached) metadata, or from its client_id when that cannot be had. */
async function viewOf(pages: PagesContext, clientId: string): Promise<ClientView> {
  try {
    return clientView(pages, await pages.oauth.clients.get(clientId));
  } catch (err) {
    if (!(err instanceof InvalidClientMetadataError)) throw err;
    const host = URL.canParse(clientId) ? new URL(clientId).host : clientId;
    return { clientId, name: host, host, trusted: false, loopback: clientId.startsWith('http://localhost') };
  }
}
