import type { Config } from '../config.ts';
import { getAtprotoSigningKey, getHandle, getPdsEndpoint } from '../identity/did-document.ts';
import type { DidResolver } from '../identity/did-resolver.ts';
import type { HandleResolver } from '../identity/handle-resolver.ts';
import { getText, parseJson } from './http.ts';
import type { HttpOptions, RelayHost } from './server-checks.ts';
import { fail, pass, warn, type CheckResult } from './types.ts';

export interface DoctorAccount {
  did: string;
  handle: string;
  /** did:key of the account's signing key. */
  signingKeyDid: string;
  /** The rev of the repo's current commit. */
  rev: string | undefined;
}

/** The handle resolves, by DNS TXT or HTTPS well-known, to the account's DID (and never to another). */
export async function checkHandle(account: DoctorAccount, handles: Pick<HandleResolver, 'resolveDns' | 'resolveHttp'>, config: Config): Promise<CheckResult> {
  const name = `handle ${account.handle}`;
  const [dns, https] = await Promise.all([handles.resolveDns(account.handle).catch(() => undefined), handles.resolveHttp(account.handle).catch(() => undefined)]);
  const ours = config.service.handleDomains.find((d) => account.handle.endsWith(d));
  for (const [method, did] of [['DNS TXT _atproto.' + account.handle, dns], [`https://${account.handle}/.well-known/atproto-did`, https]] as const) {
    if (did !== undefined && did !== account.did) {
      return fail(name, `${method} names ${did}, not this account's ${account.did}`, `change that record to "did=${account.did}" (DNS) or the DID alone (well-known)`);
    }
  }
  if (dns === account.did || https === account.did) {
    const via = [dns === account.did ? 'DNS TXT' : undefined, https === account.did ? 'HTTPS well-known' : undefined].filter(Boolean).join(' and ');
    return pass(name, `resolves to ${account.did} (${via})`);
  }
  const fix = ours
    ? `handles under ${ours} are answered by this server at https://<handle>/.well-known/atproto-did: point a wildcard DNS record *${ours} at this machine and give the proxy a certificate for *${ours}`
    : `add a DNS TXT record _atproto.${account.handle} with "did=${account.did}", or serve ${account.did} at https://${account.handle}/.well-known/atproto-did`;
  return fail(name, 'resolves to no DID (neither DNS TXT nor HTTPS well-known answers): apps show the account as an invalid handle', fix);
}

/** The DID document names this PDS, the account's current signing key and its handle. */
export async function checkDidDocument(account: DoctorAccount, dids: Pick<DidResolver, 'resolve'>, config: Config): Promise<CheckResult> {
  const name = `DID document ${account.did}`;
  let document;
  try {
    document = (await dids.resolve(account.did, { forceRefresh: true })).document;
  } catch (err) {
    return fail(name, `cannot be resolved: ${(err as Error).message}`, account.did.startsWith('did:plc:') ? 'check the PLC directory check above' : `serve the document at https://${account.did.slice(8)}/.well-known/did.json`);
  }
  const problems: string[] = [];
  const endpoint = getPdsEndpoint(document)?.replace(/\/+$/, '');
  if (endpoint !== config.service.publicUrl) problems.push(`its atproto_pds endpoint is ${endpoint ?? 'missing'}, not ${config.service.publicUrl}`);
  const key = getAtprotoSigningKey(document);
  if (key !== account.signingKeyDid) problems.push(`its #atproto key is ${key ?? 'missing'}, not the account's signing key ${account.signingKeyDid}`);
  const handle = getHandle(document);
  if (handle !== account.handle) problems.push(`its handle is ${handle ?? 'missing'}, not ${account.handle}`);
  if (problems.length === 0) return pass(name, `names this PDS, the account's signing key and handle ${account.handle}`);
  const fix = problems.length === 1 && handle !== account.handle
    ? `set the handle again (com.atproto.identity.updateHandle, e.g. from the app's settings): it rewrites the DID document`
    : 'update the identity: a PLC operation (com.atproto.identity.requestPlcOperationSignature, signPlcOperation, submitPlcOperation) naming this server and key; until then relays reject this account\'s commits';
  return fail(name, problems.join('; '), fix);
}

/** Each relay that knows this host has the repo, active, at its latest rev. */
export async function checkRelayRepo(account: DoctorAccount, relay: RelayHost, http: HttpOptions): Promise<CheckResult> {
  const name = `relay ${relay.url} has ${account.handle}`;
  let answer;
  try {
    answer = await getText(`${relay.url}/xrpc/com.atproto.sync.getRepoStatus?did=${encodeURIComponent(account.did)}`, http);
  } catch (err) {
    return fail(name, `cannot be asked: ${(err as Error).message}`, 'see the relay check above');
  }
  const body = parseJson(answer.body);
  if (answer.status !== 200) {
    if (body?.error === 'RepoNotFound' || (answer.status === 400 && body?.error === 'InvalidRequest' && /not found/i.test(String(body.message)))) {
      return fail(name, 'the relay does not know this repo', 'make a post (every write asks the relays to crawl) and check the DID document and handle checks: relays drop accounts whose identity does not point here');
    }
    return warn(name, `getRepoStatus answers ${answer.status}`, 'nothing to do here; check the account in an app');
  }
  if (body?.active === false) return fail(name, `the relay has the repo as inactive (${String(body.status ?? 'no status')})`, 'if the account is active here, check the DID document check; a taken-down account stays inactive');
  if (account.rev !== undefined && typeof body?.rev === 'string' && body.rev !== account.rev) {
    if (body.rev < account.rev) return warn(name, `the relay is at rev ${body.rev}, this server at ${account.rev}`, 'it is behind or missed an event; it usually catches up within minutes, else ask it to crawl again');
    return fail(name, `the relay is at rev ${body.rev}, ahead of this server's ${account.rev}`, 'this repo went back in time (a restored backup?): the relay will reject commits until the repo passes that rev; make a new post');
  }
  return pass(name, `active at rev ${String(body?.rev ?? account.rev)}`);
}

/**
 * The AppView (proxying configured) has the account's profile, asked as the account would
 * through the proxy: with a service-auth token from `tokenFor` (an AppView may require one).
 */
export async function checkAppView(
  account: DoctorAccount,
  config: Config,
  http: HttpOptions,
  tokenFor?: (iss: string, aud: string, lxm: string) => Promise<string>,
): Promise<CheckResult | undefined> {
  const appView = config.services.appView;
  if (!appView) return undefined;
  const name = `AppView ${appView.url} sees ${account.handle}`;
  let answer;
  try {
    const lxm = 'app.bsky.actor.getProfile';
    const token = tokenFor ? await tokenFor(account.did, appView.did, lxm).catch(() => undefined) : undefined;
    answer = await getText(`${appView.url}/xrpc/${lxm}?actor=${encodeURIComponent(account.did)}`, { ...http, headers: token ? { authorization: `Bearer ${token}` } : undefined });
  } catch (err) {
    return fail(name, `cannot be asked: ${(err as Error).message}`, 'check PDS_BSKY_APP_VIEW_URL and the outbound network');
  }
  const body = parseJson(answer.body);
  if (answer.status === 200) {
    if (body?.handle !== account.handle) return warn(name, `the AppView shows the handle as ${String(body?.handle)}`, 'the handle check above must pass; the AppView re-checks handles from time to time');
    return pass(name, `the AppView has the profile of ${account.handle}`);
  }
  return fail(name, `the AppView does not have this account (${answer.status}${body?.message ? `: ${String(body.message)}` : ''})`, 'the AppView indexes what the relays give it: fix the relay checks above first, then make a post');
}
