import assert from 'node:assert/strict';
import { AtpAgent } from '@atproto/api';
import { createAccount } from '../../src/accounts/create-account.ts';
import type { AppContext } from '../../src/context.ts';
import { decodeCbor } from '../../src/ipld/cbor.ts';
import { startTestPlc, type TestPlc } from './plc.ts';
import { basicAuth, startTestServer, type TestServer } from './server.ts';
import { startSmtpServer, type SmtpTestServer } from './smtp.ts';

/** A PLC directory, an SMTP server and a Squall that mails through it. */
export interface AccountsEnv {
  plc: TestPlc;
  smtp: SmtpTestServer;
  server: TestServer;
  url: string;
  ctx: AppContext;
  adminHeaders: { authorization: string };
  /** A client for admin calls (pass `{ headers: adminHeaders }`). */
  adminAgent: AtpAgent;
  close(): Promise<void>;
}

export async function startAccountsEnv(env: Record<string, string> = {}): Promise<AccountsEnv> {
  const plc = await startTestPlc();
  const smtp = await startSmtpServer();
  const server = await startTestServer({
    PDS_DID_PLC_URL: plc.url,
    PDS_EMAIL_SMTP_URL: smtp.url,
    PDS_EMAIL_FROM_ADDRESS: 'noreply@squall.test',
    ...env,
  });
  return {
    plc,
    smtp,
    server,
    url: server.url,
    ctx: server.server.ctx,
    adminHeaders: { authorization: basicAuth(server.adminPassword) },
    adminAgent: new AtpAgent({ service: server.url }),
    async close() {
      await server.close();
      await smtp.close();
      await plc.close();
    },
  };
}

export interface SignedUp {
  agent: AtpAgent;
  did: string;
  handle: string;
  email: string;
  password: string;
}

/** A new account through the official client, logged in. `name` must be unique per server. */
export async function signUp(env: AccountsEnv, name: string): Promise<SignedUp> {
  const agent = new AtpAgent({ service: env.url });
  const handle = `${name}.test`;
  const email = `${name}@example.com`;
  const password = `${name}-password-1`;
  const created = await agent.createAccount({ handle, email, password });
  return { agent, did: created.data.did, handle, email, password };
}

/**
 * A new account created arriving by migration (the option createAccount takes for an existing DID;
 * here it gets a fresh DID, which is all the state needs), logged in.
 */
export async function signUpArriving(env: AccountsEnv, name: string): Promise<SignedUp> {
  const { ctx } = env;
  const handle = `${name}.test`;
  const email = `${name}@example.com`;
  const password = `${name}-password-1`;
  const deps = { config: ctx.config, db: ctx.db, accounts: ctx.accounts, invites: ctx.invites, repo: ctx.repo, sequencer: ctx.sequencer, didCreator: ctx.didCreator };
  const { did } = await createAccount(deps, { handle, email, password }, { arriving: true });
  return { agent: await logIn(env, handle, password), did, handle, email, password };
}

/** A fresh client logged in with the given password (account or app password). */
export async function logIn(env: AccountsEnv, identifier: string, password: string): Promise<AtpAgent> {
  const agent = new AtpAgent({ service: env.url });
  await agent.login({ identifier, password });
  return agent;
}

/** The XRPC error a call fails with (status and error name); fails the test if it succeeds. */
export async function xrpcError(call: Promise<unknown>): Promise<{ status: number; error: string; message: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as { status?: number; error?: string; message?: string };
    assert.equal(typeof e.status, 'number', `expected an XRPC error, got ${String(err)}`);
    return { status: e.status!, error: e.error ?? '', message: e.message ?? '' };
  }
  assert.fail('expected the call to fail');
}

/** A raw XRPC POST, for calls the official client shapes for us otherwise. */
export async function post(env: AccountsEnv, nsid: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${env.url}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

export interface LoggedEvent {
  seq: number;
  type: string;
  body: Record<string, unknown>;
}

/** The account's events in the sequencer log, decoded, oldest first. */
export function eventsOf(ctx: AppContext, did: string, afterSeq = 0): LoggedEvent[] {
  return ctx.sequencer
    .readAfter(afterSeq, 100_000)
    .filter((e) => e.did === did)
    .map((e) => ({ seq: e.seq, type: e.type, body: decodeCbor(e.encoded) as Record<string, unknown> }));
}

/** Makes the account's live code of `purpose` older than its 15-minute lifetime. */
export function ageEmailToken(ctx: AppContext, did: string, purpose: string): void {
  const changed = ctx.db
    .prepare('UPDATE email_token SET requested_at = ? WHERE did = ? AND purpose = ?')
    .run(new Date(Date.now() - 16 * 60_000).toISOString(), did, purpose).changes;
  assert.equal(changed, 1, `no ${purpose} token for ${did}`);
}
