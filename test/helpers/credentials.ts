// Accounts in each account state holding every kind of credential, for the generated auth matrix
// (test/auth-matrix.test.ts). Every credential is issued while the account can still sign in,
// then the account is put in its state, as happens to a real person's credentials.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { AtpAgent } from '@atproto/api';
import { createServiceJwt } from '../../src/auth/service-jwt.ts';
import { logIn, post, signUp, signUpArriving, type AccountsEnv } from './accounts-env.ts';
import { athOf, DpopKey, ManualClient } from './oauth-manual.ts';

export type AccountState = 'active' | 'deactivated' | 'takendown' | 'arriving';
export const ACCOUNT_STATES: readonly AccountState[] = ['active', 'deactivated', 'takendown', 'arriving'];

/** Credentials that belong to no account, or whose account never gets as far as its state. */
export const UNBOUND_KINDS = ['none', 'garbage', 'garbage DPoP', 'expired access JWT', 'admin', 'OAuth token as Bearer'] as const;
/** Credentials of an account, tried in each of its states. */
export const BOUND_KINDS = [
  'full session',
  'app password',
  'privileged app password',
  'refresh JWT',
  'service JWT (its lxm)',
  'service JWT (other lxm)',
  'OAuth DPoP',
] as const;
export type UnboundKind = (typeof UNBOUND_KINDS)[number];
export type BoundKind = (typeof BOUND_KINDS)[number];
export type CredentialKind = UnboundKind | BoundKind;

/** Every permission a grant can hold: with it, only the methods that never take OAuth refuse. */
export const WIDEST_OAUTH_SCOPE =
  'atproto transition:generic transition:chat.bsky transition:email identity:* account:email?action=manage account:status?action=manage account:repo?action=manage blob:*/* repo:*';

export interface OAuthSession {
  client: ManualClient;
  access: string;
}

export interface CredentialedAccount {
  did: string;
  handle: string;
  password: string;
  state: AccountState;
  tokens: Partial<Record<'full session' | 'app password' | 'privileged app password' | 'refresh JWT', string>>;
  /** Refresh tokens of sessions of their own, for calls that use one up (refreshSession, deleteSession). */
  spareRefresh: string[];
  oauth?: OAuthSession;
}

/** What a request carries: an Authorization header, or an OAuth session (DPoP proof per request). */
export type Credential = { authorization?: string; oauth?: undefined } | { oauth: OAuthSession };

/**
 * A new account holding the credentials asked for, then put in `state` (deactivated by its owner,
 * taken down by the admin, or created arriving by migration). No OAuth grant for an arriving
 * account: the sign-in page refuses one until it activates.
 */
export async function credentialedAccount(
  env: AccountsEnv,
  name: string,
  state: AccountState,
  want: { kinds?: readonly BoundKind[]; spareRefresh?: number } = {},
): Promise<CredentialedAccount> {
  const kinds = new Set(want.kinds ?? BOUND_KINDS);
  const account = state === 'arriving' ? await signUpArriving(env, name) : await signUp(env, name);
  const tokens: CredentialedAccount['tokens'] = {};
  if (kinds.has('full session')) tokens['full session'] = account.agent.session!.accessJwt;
  if (kinds.has('refresh JWT')) tokens['refresh JWT'] = account.agent.session!.refreshJwt;
  for (const kind of ['app password', 'privileged app password'] as const) {
    if (!kinds.has(kind)) continue;
    const privileged = kind === 'privileged app password';
    const { data } = await account.agent.com.atproto.server.createAppPassword({ name: kind, privileged });
    tokens[kind] = (await logIn(env, account.handle, data.password)).session!.accessJwt;
  }
  // A takedown revokes every session: a taken-down account's refresh tokens are those of the
  // sessions it opens afterwards to leave (createSession with allowTakendown).
  const refreshTokens = async (count: number): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(state === 'takendown' ? await sessionToLeave(env, account.handle, account.password) : (await logIn(env, account.handle, account.password)).session!.refreshJwt);
    return out;
  };
  const spareRefresh = state === 'takendown' ? [] : await refreshTokens(want.spareRefresh ?? 0);
  let oauth: OAuthSession | undefined;
  if (kinds.has('OAuth DPoP') && state !== 'arriving') {
    const client = new ManualClient(env.ctx.oauth.issuer, await DpopKey.generate(), WIDEST_OAUTH_SCOPE);
    oauth = { client, access: (await client.signIn(account.handle, account.password)).access };
  }
  if (state === 'deactivated') await account.agent.com.atproto.server.deactivateAccount({});
  if (state === 'takendown') {
    await takeDown(env, account.did);
    if (kinds.has('refresh JWT')) [tokens['refresh JWT']] = await refreshTokens(1);
    spareRefresh.push(...(await refreshTokens(want.spareRefresh ?? 0)));
  }
  return { did: account.did, handle: account.handle, password: account.password, state, tokens, spareRefresh, oauth };
}

export async function takeDown(env: AccountsEnv, did: string): Promise<void> {
  await new AtpAgent({ service: env.url }).com.atproto.admin.updateSubjectStatus(
    { subject: { $type: 'com.atproto.admin.defs#repoRef', did }, takedown: { applied: true } },
    { headers: env.adminHeaders },
  );
}

/** The refresh token of a session a taken-down account opens to take itself elsewhere. */
async function sessionToLeave(env: AccountsEnv, identifier: string, password: string): Promise<string> {
  const res = await post(env, 'com.atproto.server.createSession', { identifier, password, allowTakendown: true });
  if (res.status !== 200) throw new Error(`createSession with allowTakendown: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { refreshJwt: string }).refreshJwt;
}

/** A service-auth JWT for this server, signed by the account's own key, for method `lxm`. */
export async function serviceJwt(env: AccountsEnv, did: string, lxm: string): Promise<string> {
  const keypair = env.ctx.signingKeys.get(did);
  if (keypair === undefined) throw new Error(`no signing key for ${did}`);
  return createServiceJwt({ iss: did, aud: env.ctx.config.service.did, lxm, keypair });
}

/** An access JWT signed with the server's key that expired an hour ago. */
export function expiredAccessJwt(env: AccountsEnv, did: string): string {
  const iat = Math.floor(Date.now() / 1000) - 3 * 60 * 60;
  return env.ctx.sessions.tokens.createAccess(did, 'com.atproto.access', undefined, { iat, jti: `expired-${iat}` }).token;
}

export interface XrpcRequest {
  method: 'GET' | 'POST';
  /** A subscription: sent as a WebSocket upgrade (101 when it is accepted, closed at once). */
  upgrade?: boolean;
  query?: string;
  body?: string | Uint8Array;
  contentType?: string;
}

export interface XrpcAnswer {
  status: number;
  error?: string;
  message?: string;
}

/** One XRPC request with a credential; an OAuth one gets its DPoP proof (and nonce retry). */
export async function sendWith(env: AccountsEnv, nsid: string, request: XrpcRequest, credential: Credential): Promise<XrpcAnswer> {
  if (request.upgrade) return upgradeWith(env, nsid, request, credential);
  if (credential.oauth) {
    const { client, access } = credential.oauth;
    const answer = await client.xrpc(request.method, nsid, access, request.body, { query: request.query, contentType: request.contentType });
    return { status: answer.status, error: answer.body.error as string | undefined, message: answer.body.message as string | undefined };
  }
  const headers: Record<string, string> = {};
  if (credential.authorization !== undefined) headers.authorization = credential.authorization;
  if (request.body !== undefined) headers['content-type'] = request.contentType ?? 'application/json';
  const res = await fetch(`${env.url}/xrpc/${nsid}${request.query ? `?${request.query}` : ''}`, { method: request.method, headers, body: request.body });
  const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  return { status: res.status, error: body.error, message: body.message };
}

/** A WebSocket upgrade with a credential: 101 (the socket is closed at once), or the refusal. */
async function upgradeWith(env: AccountsEnv, nsid: string, request: XrpcRequest, credential: Credential): Promise<XrpcAnswer> {
  const url = `${env.url}/xrpc/${nsid}`;
  const attempt = async (): Promise<XrpcAnswer & { nonce?: string }> => {
    const headers: Record<string, string> = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64') };
    if (credential.oauth) {
      const { client, access } = credential.oauth;
      headers.authorization = `DPoP ${access}`;
      headers.dpop = await client.key.proof('GET', url, { nonce: client.nonce, ath: athOf(access) });
    } else if (credential.authorization !== undefined) {
      headers.authorization = credential.authorization;
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${url}${request.query ? `?${request.query}` : ''}`, { headers });
      req.once('upgrade', (_res, socket) => {
        socket.destroy();
        resolve({ status: 101 });
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { error?: string; message?: string };
          resolve({ status: res.statusCode!, error: body.error, message: body.message, nonce: res.headers['dpop-nonce'] as string | undefined });
        });
      });
      req.once('error', reject);
      req.end();
    });
  };
  let answer = await attempt();
  if (credential.oauth && answer.status === 401 && answer.error === 'use_dpop_nonce' && answer.nonce) {
    credential.oauth.client.nonce = answer.nonce;
    answer = await attempt();
  }
  return { status: answer.status, error: answer.error, message: answer.message };
}
