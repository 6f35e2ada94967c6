// The migration command's client keeps its session alive over a long run: an access token that
// has expired (they live two hours at most; a large repo with its blobs can take longer) is
// refreshed with the refresh token, and the call goes through. The expired token is a real one,
// signed by the server's own key with an issue time three hours ago.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Scope, SessionTokens } from '../src/auth/session-jwt.ts';
import { XrpcCallError, XrpcClient } from '../src/migrate/xrpc-client.ts';
import { signUp, startAccountsEnv, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';

let env: AccountsEnv;
let account: SignedUp;
before(async () => {
  env = await startAccountsEnv();
  account = await signUp(env, 'long-mover');
});
after(() => env.close());

/** An access token of the account that expired an hour ago, as the server itself would have signed it. */
function expiredAccessToken(did: string): string {
  const tokens = new SessionTokens(env.ctx.secrets.jwtSecret, env.ctx.config.service.did);
  return tokens.createAccess(did, Scope.Access, undefined, { iat: Math.floor(Date.now() / 1000) - 3 * 60 * 60, jti: 'expired-for-the-test' }).token;
}

async function clientWithExpiredToken(): Promise<{ client: XrpcClient; refreshJwt: string }> {
  const client = new XrpcClient(env.url);
  const session = await client.login(account.did, account.password);
  assert.ok(session.refreshJwt);
  client.session = { ...session, accessJwt: expiredAccessToken(account.did) };
  return { client, refreshJwt: session.refreshJwt };
}

describe('the migration client and an access token that expired during a long run', () => {
  it('the server refuses the expired token with ExpiredToken, as the client must expect', async () => {
    const res = await fetch(`${env.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `Bearer ${expiredAccessToken(account.did)}` } });
    assert.equal(((await res.json()) as { error: string }).error, 'ExpiredToken');
  });

  it('refreshes the session before a call and carries on, with new tokens', async () => {
    const { client, refreshJwt } = await clientWithExpiredToken();
    const session = await client.query<{ did: string }>('com.atproto.server.getSession');
    assert.equal(session.did, account.did);
    assert.notEqual(client.session!.refreshJwt, refreshJwt, 'the refresh token rotated');
    const fresh = JSON.parse(Buffer.from(client.session!.accessJwt.split('.')[1], 'base64url').toString()) as { exp: number };
    assert.ok(fresh.exp * 1000 > Date.now() + 60 * 60 * 1000, 'a new access token, good for more than an hour');
  });

  it('refreshes before a streamed upload, whose body could not be sent twice', async () => {
    const { client } = await clientWithExpiredToken();
    const bytes = new TextEncoder().encode('a blob that travels as a stream');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const uploaded = await client.upload<{ blob: { size: number } }>('com.atproto.repo.uploadBlob', body, 'text/plain');
    assert.equal(uploaded.blob.size, bytes.length);
  });

  it('refreshes and sends again when the server answers ExpiredToken to a token its clock took for valid', async () => {
    // a machine whose clock is three hours behind takes the expired token for a good one and sends it
    const { client } = await clientWithExpiredToken();
    const behind = new XrpcClient(env.url, () => Date.now() - 3 * 60 * 60 * 1000);
    behind.session = client.session;
    const prefs = await behind.query<{ preferences: unknown[] }>('app.bsky.actor.getPreferences');
    assert.deepEqual(prefs.preferences, []);
    assert.notEqual(behind.session!.accessJwt, client.session!.accessJwt, 'a new access token after the ExpiredToken answer');
  });

  it('stops with a clear error when the refresh token is no longer good either', async () => {
    const { client } = await clientWithExpiredToken();
    client.session = { ...client.session!, refreshJwt: 'not-a-refresh-token' };
    await assert.rejects(client.query('com.atproto.server.getSession'), (err: unknown) => err instanceof XrpcCallError && err.nsid === 'com.atproto.server.refreshSession');
  });
});
