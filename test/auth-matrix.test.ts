// The auth matrix, generated from the method table: every registered XRPC method × every
// credential kind × every account state, each a real request to one running server. What each
// verifier does with each credential is declared once below (VERIFIERS), and what each account
// state may do once (STATES_THAT_MAY, the account policy restated); a method added later is walked
// like the others, and a verifier or an account action the tables do not know fails the test.
//
// "Accepted" is proven without side effects where possible: the request carries invalid
// parameters or a body that is not JSON, which the controller checks only after auth, so a
// credential that passes gets 400 InvalidRequest and nothing runs. Subscriptions are sent as
// WebSocket upgrades, which read their parameters after auth too. Methods with nothing to make
// invalid get a harmless call (HARMLESS), or one on accounts and sessions of their own when the
// call would change them (activateAccount, refreshSession, deleteSession).
//
// Beside this file: test/proxy-auth-matrix.test.ts (methods forwarded to the AppView and chat:
// not registered here), test/oauth-matrix.test.ts (what each OAuth scope reaches, per method).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildRegistry, methods } from '../src/api/index.ts';
import type { MethodEntry } from '../src/xrpc/registry.ts';
import type { LexPrimitiveDef } from '../src/xrpc/types.ts';
import { startAccountsEnv, type AccountsEnv } from './helpers/accounts-env.ts';
import {
  ACCOUNT_STATES,
  BOUND_KINDS,
  credentialedAccount,
  expiredAccessJwt,
  sendWith,
  serviceJwt,
  UNBOUND_KINDS,
  type AccountState,
  type BoundKind,
  type Credential,
  type CredentialedAccount,
  type CredentialKind,
  type XrpcAnswer,
  type XrpcRequest,
} from './helpers/credentials.ts';
import { basicAuth } from './helpers/server.ts';
import { DpopKey, ManualClient } from './helpers/oauth-manual.ts';

type Refusal = readonly [401 | 403, string];
/**
 * What a verifier does with a credential: a refusal, or acceptance: `yes` in every state;
 * `policy` when the method's account action is allowed in the account's state (401
 * AccountDeactivated or AccountTakedown otherwise); `unless taken down` (401 AccountTakedown).
 */
type Cell = Refusal | 'yes' | 'policy' | 'policy, unless taken down' | 'unless taken down';

const AUTH_REQUIRED: Refusal = [401, 'AuthenticationRequired'];
const INVALID: Refusal = [401, 'InvalidToken'];
const EXPIRED: Refusal = [401, 'ExpiredToken'];
const FORBIDDEN: Refusal = [403, 'Forbidden'];
const BAD_JWT: Refusal = [401, 'BadJwt'];

/** Session verifiers (any session, full ones, those that reach chat) differ only in who they admit. */
function sessionRow(appPassword: Cell, privileged: Cell): Record<CredentialKind, Cell> {
  return {
    none: AUTH_REQUIRED,
    garbage: INVALID,
    'garbage DPoP': [401, 'invalid_token'],
    'expired access JWT': EXPIRED,
    admin: INVALID,
    'OAuth token as Bearer': [401, 'invalid_token'],
    'full session': 'policy',
    'app password': appPassword,
    'privileged app password': privileged,
    'refresh JWT': INVALID,
    'service JWT (its lxm)': INVALID,
    'service JWT (other lxm)': INVALID,
    // An app's token never reaches a taken-down account, not even to leave (oauth-access.ts).
    'OAuth DPoP': 'policy, unless taken down',
  };
}

/** A service token verifier (service-auth-verifier.ts): only a token for this very method. */
function serviceRow(none: Cell): Record<CredentialKind, Cell> {
  const sessionJwt: Refusal = [401, 'BadJwtType'];
  return {
    none,
    garbage: BAD_JWT,
    'garbage DPoP': INVALID,
    'expired access JWT': sessionJwt,
    admin: INVALID,
    'OAuth token as Bearer': sessionJwt,
    'full session': sessionJwt,
    'app password': sessionJwt,
    'privileged app password': sessionJwt,
    'refresh JWT': sessionJwt,
    'service JWT (its lxm)': 'yes',
    'service JWT (other lxm)': [401, 'BadJwtLexiconMethod'],
    'OAuth DPoP': INVALID,
  };
}

const everyone = (): Record<CredentialKind, Cell> => Object.fromEntries([...UNBOUND_KINDS, ...BOUND_KINDS].map((k) => [k, 'yes'])) as Record<CredentialKind, Cell>;

/** The verifiers of src/auth/verifiers.ts, by name, and what each does with every credential kind. */
const VERIFIERS: Record<string, Record<CredentialKind, Cell>> = {
  none: everyone(),
  admin: {
    none: AUTH_REQUIRED,
    garbage: INVALID,
    'garbage DPoP': INVALID,
    'expired access JWT': INVALID,
    admin: 'yes',
    'OAuth token as Bearer': INVALID,
    'full session': INVALID,
    'app password': INVALID,
    'privileged app password': INVALID,
    'refresh JWT': INVALID,
    'service JWT (its lxm)': INVALID,
    'service JWT (other lxm)': INVALID,
    'OAuth DPoP': INVALID,
  },
  access: sessionRow('policy', 'policy'),
  accessFull: sessionRow(FORBIDDEN, FORBIDDEN),
  accessPrivileged: sessionRow(FORBIDDEN, 'policy'),
  // Reads anyone may make; a session (of any state) only adds what its owner may see of itself.
  optionalAccess: { ...sessionRow('yes', 'yes'), none: 'yes', 'full session': 'yes', 'OAuth DPoP': 'unless taken down' },
  refresh: {
    none: AUTH_REQUIRED,
    garbage: INVALID,
    'garbage DPoP': INVALID,
    'expired access JWT': INVALID,
    admin: INVALID,
    'OAuth token as Bearer': INVALID,
    'full session': INVALID,
    'app password': INVALID,
    'privileged app password': INVALID,
    // A taken-down account may refresh the session it opened to leave (refreshSession checks the rest).
    'refresh JWT': 'yes',
    'service JWT (its lxm)': INVALID,
    'service JWT (other lxm)': INVALID,
    'OAuth DPoP': INVALID,
  },
  service: serviceRow(AUTH_REQUIRED),
  optionalService: serviceRow('yes'),
};

const ALL_STATES = ACCOUNT_STATES;
const NOT_TAKEN_DOWN: readonly AccountState[] = ['active', 'deactivated', 'arriving'];
const FILLING_IN: readonly AccountState[] = ['active', 'arriving'];

/**
 * What each account state may do (the account actions of src/accounts/account-policy.ts), restated
 * from issues 12 and 15 rather than imported, so a change of the policy has to change this too.
 */
const STATES_THAT_MAY: Record<string, readonly AccountState[]> = {
  readOwnState: NOT_TAKEN_DOWN,
  exportOwnData: ALL_STATES,
  writeRecords: ['active'],
  importRepo: FILLING_IN,
  uploadBlob: FILLING_IN,
  writePreferences: FILLING_IN,
  manageAccount: NOT_TAKEN_DOWN,
  manageIdentity: NOT_TAKEN_DOWN,
  signIdentity: ALL_STATES,
  // getServiceAuth: a taken-down account gets a createAccount token alone (the handler's check).
  serviceAuthToLeave: ALL_STATES,
  activate: NOT_TAKEN_DOWN,
  deactivate: ALL_STATES,
};

type Entry = MethodEntry<unknown, unknown>;

/** A request that gets past auth, and the answer that proves it did. */
interface Probe extends XrpcRequest {
  accepted: { status: number; error?: string; message?: RegExp };
  /** Whether the handler runs (then an OAuth grant meets the method's `oauth` rule first). */
  runsHandler: boolean;
  /** What an accepted call uses up: a refresh token, or the account's state. */
  spends?: 'refresh' | 'state';
}

const INVALID_PARAMS = { status: 400, error: 'InvalidRequest' };

/** Methods with no parameter or body to make invalid: a harmless call, or one that spends something. */
const HARMLESS: Record<string, Omit<Probe, 'runsHandler'>> = {
  _health: { method: 'GET', accepted: { status: 200 } },
  '_admin/status': { method: 'GET', accepted: { status: 200 } },
  'com.atproto.server.describeServer': { method: 'GET', accepted: { status: 200 } },
  'com.atproto.server.getSession': { method: 'GET', accepted: { status: 200 } },
  'com.atproto.server.checkAccountStatus': { method: 'GET', accepted: { status: 200 } },
  'com.atproto.server.listAppPasswords': { method: 'GET', accepted: { status: 200 } },
  'app.bsky.actor.getPreferences': { method: 'GET', accepted: { status: 200 } },
  'com.atproto.identity.getRecommendedDidCredentials': { method: 'GET', accepted: { status: 200 } },
  // These mail a code (or say none is needed); the code changes nothing until it is used.
  'com.atproto.server.requestEmailConfirmation': { method: 'POST', accepted: { status: 200 } },
  'com.atproto.server.requestEmailUpdate': { method: 'POST', accepted: { status: 200 } },
  'com.atproto.server.requestAccountDelete': { method: 'POST', accepted: { status: 200 } },
  'com.atproto.identity.requestPlcOperationSignature': { method: 'POST', accepted: { status: 200 } },
  // A blob nothing references: temporary, collected later.
  'com.atproto.repo.uploadBlob': { method: 'POST', body: 'matrix', contentType: 'text/plain', accepted: { status: 200 } },
  // Not a CAR: refused whole, the account unchanged.
  'com.atproto.repo.importRepo': { method: 'POST', body: new Uint8Array([1, 2, 3]), contentType: 'application/vnd.ipld.car', accepted: { status: 400, error: 'InvalidRequest' } },
  'com.atproto.server.refreshSession': { method: 'POST', accepted: { status: 200 }, spends: 'refresh' },
  'com.atproto.server.deleteSession': { method: 'POST', accepted: { status: 200 }, spends: 'refresh' },
  'com.atproto.server.activateAccount': { method: 'POST', accepted: { status: 200 }, spends: 'state' },
};

/** The probe of a method: invalid input where it has input, its harmless call otherwise. */
function probeFor(entry: Entry): Probe | undefined {
  const harmless = HARMLESS[entry.nsid];
  if (harmless) return { ...harmless, runsHandler: true };
  if (entry.kind === 'procedure' && entry.inputIsJson) {
    return { method: 'POST', body: '{"not json', contentType: 'application/json', accepted: { ...INVALID_PARAMS, message: /JSON/ }, runsHandler: false };
  }
  if (entry.kind === 'procedure') return undefined;
  // Queries, and subscriptions as WebSocket upgrades: their parameters too are read after auth.
  const upgrade = entry.kind === 'subscription';
  const params = entry.schema.params;
  if ((params?.required ?? []).length > 0) return { method: 'GET', upgrade, accepted: { ...INVALID_PARAMS, message: /Params must have the property/ }, runsHandler: false };
  for (const [name, def] of Object.entries(params?.properties ?? {})) {
    const item = (def.type === 'array' ? def.items : def) as LexPrimitiveDef;
    const bad = item.type === 'integer' || item.type === 'boolean' ? 'not-a-value' : item.type === 'string' && item.format ? '%20' : undefined;
    if (bad !== undefined) return { method: 'GET', upgrade, query: `${name}=${bad}`, accepted: { ...INVALID_PARAMS, message: new RegExp(name) }, runsHandler: false };
  }
  return undefined;
}

/** Methods this matrix cannot walk, with where they are covered and why (none today). */
const NOT_WALKED: Record<string, string> = {};

interface Case {
  kind: CredentialKind;
  state: AccountState | undefined;
}

let env: AccountsEnv;
let entries: Entry[];
const fixtures = new Map<AccountState, CredentialedAccount>();
let throwaways = 0;

before(async () => {
  env = await startAccountsEnv();
  entries = buildRegistry(env.ctx).list() as Entry[];
  const spareRefresh = entries.filter((e) => probeFor(e)?.spends === 'refresh').length;
  for (const state of ACCOUNT_STATES) fixtures.set(state, await credentialedAccount(env, `matrix-${state}`, state, { spareRefresh }));
});
after(() => env.close());

/** The verifier a method names, and its account action (the table's `auth` is `access+writeRecords`: api/account-access.ts). */
const baseVerifier = (e: Entry) => e.authName.split('+')[0];
const actionOf = (e: Entry): string | undefined => e.authName.split('+')[1];
const oauthRule = (nsid: string) => methods.find((m) => m.nsid === nsid)?.oauth;

/** The answer the tables expect. */
function expected(entry: Entry, probe: Probe, { kind, state }: Case): XrpcAnswer {
  const cell = VERIFIERS[baseVerifier(entry)][kind];
  if (typeof cell !== 'string') return { status: cell[0], error: cell[1] };
  const refusedFor = (s: AccountState): XrpcAnswer => ({ status: 401, error: s === 'takendown' ? 'AccountTakedown' : 'AccountDeactivated' });
  if (state !== undefined) {
    if ((cell === 'unless taken down' || cell === 'policy, unless taken down') && state === 'takendown') return refusedFor(state);
    if (cell.startsWith('policy') && !STATES_THAT_MAY[actionOf(entry)!].includes(state)) return refusedFor(state);
  }
  // An OAuth grant then meets the method's `oauth` rule (scopes: test/oauth-matrix.test.ts).
  if (kind === 'OAuth DPoP' && probe.runsHandler && oauthRule(entry.nsid) === 'never') return { status: 403, error: 'Forbidden' };
  return { status: probe.accepted.status, error: probe.accepted.error };
}

/** The credential of a kind, for the account of `state` (or of the active account when unbound). */
async function credential(entry: Entry, probe: Probe, { kind, state }: Case, accepted: boolean): Promise<Credential | undefined> {
  let account = fixtures.get(state ?? 'active')!;
  if (accepted && probe.spends === 'state') {
    // Its own account: an accepted call changes the state the others rely on.
    account = await credentialedAccount(env, `matrix-spent-${++throwaways}`, account.state, { kinds: [kind as BoundKind] });
  }
  const bearer = (token: string | undefined) => (token === undefined ? undefined : { authorization: `Bearer ${token}` });
  switch (kind) {
    case 'none':
      return {};
    case 'garbage':
      return { authorization: 'Bearer garbage' };
    case 'garbage DPoP':
      return { authorization: 'DPoP garbage' };
    case 'expired access JWT':
      return bearer(expiredAccessJwt(env, account.did));
    case 'admin':
      return { authorization: basicAuth(env.server.adminPassword) };
    case 'OAuth token as Bearer':
      return bearer(account.oauth!.access);
    case 'refresh JWT':
      return bearer(accepted && probe.spends === 'refresh' ? account.spareRefresh.shift() : account.tokens['refresh JWT']);
    case 'service JWT (its lxm)':
      return bearer(await serviceJwt(env, account.did, entry.nsid));
    case 'service JWT (other lxm)':
      return bearer(await serviceJwt(env, account.did, 'app.bsky.feed.getTimeline'));
    case 'OAuth DPoP':
      return account.oauth && { oauth: account.oauth };
    default:
      return bearer(account.tokens[kind]);
  }
}

/** Every credential kind in every state, but those that cannot exist (see the tests below). */
function casesOf(entry: Entry): Case[] {
  const cases: Case[] = UNBOUND_KINDS.map((kind) => ({ kind, state: undefined }));
  for (const state of ACCOUNT_STATES) {
    for (const kind of BOUND_KINDS) {
      if (kind === 'OAuth DPoP' && state === 'arriving') continue;
      // `_health` and `_admin/status` are not NSIDs: no service token can name them.
      if (kind === 'service JWT (its lxm)' && !entry.nsid.includes('.')) continue;
      cases.push({ kind, state });
    }
  }
  return cases;
}

describe('the auth matrix, generated from the method table', () => {
  it('knows the verifier and the account action of every registered method', () => {
    const unknown = entries.filter((e) => !(baseVerifier(e) in VERIFIERS) || (actionOf(e) !== undefined && !(actionOf(e)! in STATES_THAT_MAY)));
    assert.deepEqual(unknown.map((e) => `${e.nsid}: ${e.authName}`), []);
    const policyWithoutAction = entries.filter((e) => Object.values(VERIFIERS[baseVerifier(e)]).includes('policy') && actionOf(e) === undefined);
    assert.deepEqual(policyWithoutAction.map((e) => e.nsid), []);
  });

  it('walks every registered method, or says where else it is covered', () => {
    const unwalked = entries.filter((e) => probeFor(e) === undefined && !(e.nsid in NOT_WALKED));
    assert.deepEqual(unwalked.map((e) => `${e.nsid} (${e.kind}, auth ${e.authName}): give it a probe`), []);
    for (const nsid of [...Object.keys(NOT_WALKED), ...Object.keys(HARMLESS)]) assert.ok(entries.some((e) => e.nsid === nsid), `${nsid} is no longer registered`);
  });

  it('cannot give an account still arriving an OAuth grant, so that column is empty', async () => {
    const arriving = fixtures.get('arriving')!;
    const client = new ManualClient(env.ctx.oauth.issuer, await DpopKey.generate(), 'atproto');
    await assert.rejects(client.signIn(arriving.handle, arriving.password), /sign-in failed: 403/);
  });

  it('answers every method, credential kind and account state as the tables say', async (t) => {
    const wrong: string[] = [];
    let walked = 0;
    let requests = 0;
    for (const entry of entries) {
      const probe = probeFor(entry);
      if (probe === undefined) continue;
      walked++;
      // One method's cases at once over keep-alive connections; the methods one after the other.
      const found = await Promise.all(
        casesOf(entry).map(async (c) => {
          const want = expected(entry, probe, c);
          const accepted = want.status === probe.accepted.status && want.error === probe.accepted.error;
          const cred = await credential(entry, probe, c, accepted);
          assert.ok(cred, `no ${c.kind} credential for ${c.state}`);
          const got = await sendWith(env, entry.nsid, probe, cred);
          requests++;
          const seen = `${entry.nsid} (${entry.authName}) with ${c.kind}${c.state ? ` of a ${c.state} account` : ''}`;
          if (got.status !== want.status || got.error !== want.error) return `${seen}: ${got.status} ${got.error ?? ''} ${got.message ?? ''}, expected ${want.status} ${want.error ?? ''}`;
          if (accepted && probe.accepted.message && !probe.accepted.message.test(got.message ?? '')) return `${seen}: accepted, but "${got.message}" is not the probe's own refusal`;
          return undefined;
        }),
      );
      wrong.push(...found.filter((line) => line !== undefined));
    }
    assert.deepEqual(wrong, []);
    assert.equal(walked, entries.length - Object.keys(NOT_WALKED).length);
    t.diagnostic(`${walked} methods, ${requests} requests, ${throwaways} accounts of their own for calls that change the state`);
  });

  it('leaves every account it relies on in the state it was put in', () => {
    for (const [state, account] of fixtures) {
      const now = env.ctx.accounts.stateByDid(account.did);
      assert.equal(now, state, account.handle);
    }
  });
});
