// Who may have calls forwarded: every credential kind × every account state, for an AppView
// method and a chat method (privileged), with what reached the upstream in each case.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { basicAuth } from './helpers/server.ts';
import { post, startAccountsEnv, type AccountsEnv } from './helpers/accounts-env.ts';
import { credentialedAccount, serviceJwt, type AccountState, type CredentialedAccount } from './helpers/credentials.ts';
import { startTestService, type TestService } from './helpers/services.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';

let plc: TestPlc;
let appView: TestService;
let chat: TestService;
let env: AccountsEnv;

type State = AccountState;
type Kind = 'full session' | 'app password' | 'privileged app password';
const STATES: readonly State[] = ['active', 'deactivated', 'arriving', 'takendown'];
const KINDS: readonly Kind[] = ['full session', 'app password', 'privileged app password'];

/** Access tokens by state and credential kind, all issued while the account could still sign in. */
const tokens = new Map<string, string>();
const accounts = new Map<State, CredentialedAccount>();
const TIMELINE = 'app.bsky.feed.getTimeline';
const CONVOS = 'chat.bsky.convo.listConvos';

before(async () => {
  plc = await startTestPlc();
  appView = await startTestService(plc.url, { serviceId: 'bsky_appview', type: 'BskyAppView' });
  chat = await startTestService(plc.url, { serviceId: 'bsky_chat', type: 'BskyChatService' });
  env = await startAccountsEnv({
    PDS_DID_PLC_URL: plc.url,
    PDS_BSKY_APP_VIEW_URL: appView.url,
    PDS_BSKY_APP_VIEW_DID: appView.did,
    PDS_BSKY_CHAT_URL: chat.url,
    PDS_BSKY_CHAT_DID: chat.did,
  });
  for (const state of STATES) {
    const account = await credentialedAccount(env, `matrix-${state}`, state, { kinds: [...KINDS, 'refresh JWT'] });
    accounts.set(state, account);
    for (const kind of KINDS) tokens.set(`${state}/${kind}`, account.tokens[kind]!);
  }
});
after(async () => {
  await env.close();
  await appView.close();
  await chat.close();
  await plc.close();
});

async function call(nsid: string, authorization?: string): Promise<{ status: number; error?: string }> {
  const res = await fetch(`${env.url}/xrpc/${nsid}`, { headers: authorization ? { authorization } : {} });
  const body = (await res.json()) as { error?: string };
  return { status: res.status, error: res.status === 200 ? undefined : body.error };
}

/** The answer to a call, and whether anything reached either upstream. */
async function outcome(nsid: string, authorization?: string) {
  const before = appView.received.length + chat.received.length;
  const answer = await call(nsid, authorization);
  return { ...answer, sent: appView.received.length + chat.received.length > before };
}

describe('the proxy auth matrix', () => {
  for (const state of STATES) {
    for (const kind of KINDS) {
      it(`${kind} of a ${state} account: AppView ${state === 'takendown' ? '401 AccountTakedown' : 'yes'}, chat ${state === 'takendown' ? '401 AccountTakedown' : kind === 'app password' ? '403' : 'yes'}`, async () => {
        const authorization = `Bearer ${tokens.get(`${state}/${kind}`)}`;
        const timeline = await outcome(TIMELINE, authorization);
        const convos = await outcome(CONVOS, authorization);
        if (state === 'takendown') {
          assert.deepEqual(timeline, { status: 401, error: 'AccountTakedown', sent: false });
          assert.deepEqual(convos, { status: 401, error: 'AccountTakedown', sent: false });
          return;
        }
        assert.deepEqual(timeline, { status: 200, error: undefined, sent: true });
        if (kind === 'app password') assert.deepEqual(convos, { status: 403, error: 'Forbidden', sent: false });
        else assert.deepEqual(convos, { status: 200, error: undefined, sent: true });
        const did = accounts.get(state)!.did;
        assert.equal(appView.calls(TIMELINE).at(-1)!.jwt?.iss, did);
      });
    }
  }

  it('refuses a taken-down account even in the session it may open to leave', async () => {
    const takendown = accounts.get('takendown')!;
    const res = await post(env, 'com.atproto.server.createSession', { identifier: takendown.handle, password: takendown.password, allowTakendown: true });
    const { accessJwt } = (await res.json()) as { accessJwt: string };
    assert.deepEqual(await outcome(TIMELINE, `Bearer ${accessJwt}`), { status: 401, error: 'AccountTakedown', sent: false });
  });

  it('refuses every credential that is not an account session with 401, sending nothing', async () => {
    const active = accounts.get('active')!;
    const serviceToken = await serviceJwt(env, active.did, TIMELINE);
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'AuthenticationRequired'],
      ['Bearer garbage', 'InvalidToken'],
      [basicAuth(env.server.adminPassword), 'InvalidToken'],
      [`Bearer ${env.server.adminPassword}`, 'InvalidToken'],
      [`Bearer ${active.tokens['refresh JWT']}`, 'InvalidToken'],
      [`Bearer ${serviceToken}`, 'InvalidToken'],
    ];
    for (const [authorization, error] of cases) {
      for (const nsid of [TIMELINE, CONVOS]) {
        const result = await outcome(nsid, authorization);
        assert.deepEqual(result, { status: 401, error, sent: false }, `${authorization?.slice(0, 20)} ${nsid}`);
      }
    }
  });
});
