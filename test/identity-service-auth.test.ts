import { testIdResolver } from './helpers/plc.ts';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { verifyJwt } from '@atproto/xrpc-server';
import { methods } from '../src/api/index.ts';
import type { AppMethod } from '../src/api/define.ts';
import { identityMethods } from '../src/api/identity-methods.ts';
import { createServiceAuthVerifier, SERVICE_AUTH_ERROR_NAMES, type ServiceAuth } from '../src/auth/service-auth-verifier.ts';
import { createServiceJwt } from '../src/auth/service-jwt.ts';
import { formatValidators } from '../src/syntax/index.ts';
import { createXrpcController, Registry, type MethodDef } from '../src/xrpc/index.ts';
import { logIn, signUp, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';

// Until the lead adds `identityMethods` to the registry, the tests put them in the table.
for (const method of identityMethods) {
  if (!methods.some((m) => m.nsid === method.nsid)) (methods as AppMethod[]).push(method);
}

let env: AccountsEnv;
let alice: SignedUp;
let bob: SignedUp;
let serviceDid: string;
/** A second XRPC server whose methods take service auth, verified against the real PLC. */
let receiver: { url: string; server: Server };

const WHOAMI = 'com.example.squall.whoami';
const OTHER = 'com.example.squall.other';

before(async () => {
  env = await startAccountsEnv();
  serviceDid = env.ctx.config.service.did;
  alice = await signUp(env, 'alice');
  bob = await signUp(env, 'bob');
  receiver = await startReceiver();
});
after(async () => {
  await new Promise((resolve) => receiver.server.close(resolve));
  await env.close();
});

async function startReceiver(): Promise<{ url: string; server: Server }> {
  const verifier = createServiceAuthVerifier({ serviceDid, dids: env.ctx.identity.dids });
  const registry = new Registry<unknown, ServiceAuth>({ schemas: env.ctx.lexicons, formats: formatValidators, verifiers: { service: verifier }, defaultJsonLimit: 1024 });
  const method = (nsid: string): MethodDef<unknown, ServiceAuth> => ({
    nsid,
    auth: 'service',
    schema: { kind: 'query', output: { encoding: 'application/json' }, errors: [...SERVICE_AUTH_ERROR_NAMES] },
    handler: ({ auth }) => auth,
  });
  registry.add(method(WHOAMI)).add(method(OTHER));
  const silent = { info() {}, warn() {}, error() {} };
  const controller = createXrpcController(registry, { ctx: undefined, schemas: env.ctx.lexicons, log: silent, clientIp: () => '127.0.0.1', strict: true });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    void controller(req, res, url.pathname.slice('/xrpc/'.length), url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function call(nsid: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${receiver.url}/xrpc/${nsid}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const serviceToken = async (agent: SignedUp['agent'], params: { aud: string; lxm?: string; exp?: number }) =>
  (await agent.com.atproto.server.getServiceAuth(params)).data.token;

/** A token with exactly these claims, signed with the account's own key (no minting rules apply). */
async function signClaims(signer: SignedUp, claims: Record<string, unknown>): Promise<string> {
  const keypair = env.ctx.signingKeys.get(signer.did)!;
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ typ: 'JWT', alg: keypair.alg })}.${part({ iss: signer.did, aud: serviceDid, lxm: WHOAMI, ...claims })}`;
  return `${input}.${Buffer.from(await keypair.sign(Buffer.from(input))).toString('base64url')}`;
}

const decodePart = (token: string, i: number) => JSON.parse(Buffer.from(token.split('.')[i], 'base64url').toString('utf8')) as Record<string, unknown>;

describe('getServiceAuth', () => {
  it('mints a short-lived token for the account, signed with its key, that the official verifier accepts', async () => {
    const token = await serviceToken(alice.agent, { aud: `${serviceDid}#atproto_pds`, lxm: WHOAMI });
    assert.deepEqual(decodePart(token, 0), { typ: 'JWT', alg: 'ES256K' });
    const payload = decodePart(token, 1);
    const now = Math.floor(Date.now() / 1000);
    assert.equal(payload.iss, alice.did);
    assert.equal(payload.aud, `${serviceDid}#atproto_pds`);
    assert.equal(payload.lxm, WHOAMI);
    assert.ok(Math.abs((payload.exp as number) - (now + 60)) <= 2);
    assert.ok(Math.abs((payload.iat as number) - now) <= 2);
    assert.match(payload.jti as string, /^[0-9a-f]{32}$/);

    // The reference verifier, with keys from the PLC directory through the reference resolver.
    const resolver = testIdResolver(env.plc.url);
    const verified = await verifyJwt(token, `${serviceDid}#atproto_pds`, WHOAMI, (iss, force) => resolver.did.resolveAtprotoKey(iss, force));
    assert.equal(verified.iss, alice.did);
  });

  it('accepts an explicit exp up to an hour ahead for a method, a minute without one', async () => {
    const now = Math.floor(Date.now() / 1000);
    const bound = await serviceToken(alice.agent, { aud: serviceDid, lxm: WHOAMI, exp: now + 3500 });
    assert.equal(decodePart(bound, 1).exp, now + 3500);
    const methodless = await serviceToken(alice.agent, { aud: serviceDid, exp: now + 50 });
    assert.equal(decodePart(methodless, 1).lxm, undefined);
  });

  it('refuses an exp in the past, over an hour ahead, or over a minute ahead without lxm with BadExpiration', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const params of [
      { aud: serviceDid, lxm: WHOAMI, exp: now - 10 },
      { aud: serviceDid, lxm: WHOAMI, exp: now + 3700 },
      { aud: serviceDid, exp: now + 120 },
    ]) {
      const err = await xrpcError(alice.agent.com.atproto.server.getServiceAuth(params));
      assert.deepEqual([err.status, err.error], [400, 'BadExpiration'], JSON.stringify(params));
    }
  });

  it('refuses an audience that is not a DID', async () => {
    const err = await xrpcError(alice.agent.com.atproto.server.getServiceAuth({ aud: 'https://example.com' }));
    assert.deepEqual([err.status, err.error], [400, 'InvalidRequest']);
  });

  it('never mints a token for a protected method', async () => {
    for (const lxm of ['com.atproto.identity.updateHandle', 'com.atproto.server.createAppPassword', 'com.atproto.identity.signPlcOperation']) {
      const err = await xrpcError(alice.agent.com.atproto.server.getServiceAuth({ aud: serviceDid, lxm }));
      assert.deepEqual([err.status, err.error], [400, 'InvalidRequest'], lxm);
      assert.match(err.message, /protected method/);
    }
  });

  it('mints tokens for moving the account elsewhere (createAccount) only for full sessions', async () => {
    const lxm = 'com.atproto.server.createAccount';
    assert.ok(await serviceToken(alice.agent, { aud: 'did:web:other-pds.example.com', lxm }));

    const plain = await alice.agent.com.atproto.server.createAppPassword({ name: 'plain' });
    const plainAgent = await logIn(env, alice.handle, plain.data.password);
    const err = await xrpcError(plainAgent.com.atproto.server.getServiceAuth({ aud: serviceDid, lxm }));
    assert.deepEqual([err.status, err.error], [400, 'InvalidRequest']);
    assert.match(err.message, /insufficient access/);
    // An ordinary method is fine with any app password.
    assert.ok(await serviceToken(plainAgent, { aud: serviceDid, lxm: WHOAMI }));

    const privileged = await alice.agent.com.atproto.server.createAppPassword({ name: 'privileged', privileged: true });
    const privilegedAgent = await logIn(env, alice.handle, privileged.data.password);
    const refused = await xrpcError(privilegedAgent.com.atproto.server.getServiceAuth({ aud: serviceDid, lxm }));
    assert.match(refused.message, /insufficient access/);
    // What a privileged app password adds: chat.
    assert.ok(await serviceToken(privilegedAgent, { aud: serviceDid, lxm: 'chat.bsky.convo.listConvos' }));
  });

  it('needs a session', async () => {
    const res = await fetch(`${env.url}/xrpc/com.atproto.server.getServiceAuth?aud=${serviceDid}`);
    assert.equal(res.status, 401);
  });
});

describe('the service auth verifier', () => {
  it('accepts a token for this server and this method, with or without the #atproto_pds fragment', async () => {
    for (const aud of [serviceDid, `${serviceDid}#atproto_pds`]) {
      const { status, body } = await call(WHOAMI, await serviceToken(alice.agent, { aud, lxm: WHOAMI }));
      assert.equal(status, 200);
      assert.deepEqual(body, { type: 'service', did: alice.did, aud, lxm: WHOAMI, keyId: 'atproto' });
    }
  });

  it('refuses a token bound to another method, or to none', async () => {
    for (const token of [await serviceToken(alice.agent, { aud: serviceDid, lxm: OTHER }), await serviceToken(alice.agent, { aud: serviceDid })]) {
      const { status, body } = await call(WHOAMI, token);
      assert.deepEqual([status, body.error], [401, 'BadJwtLexiconMethod']);
    }
  });

  it('refuses a token addressed to another service', async () => {
    for (const aud of ['did:web:other-pds.example.com', `${serviceDid}#atproto_labeler`]) {
      const { status, body } = await call(WHOAMI, await serviceToken(alice.agent, { aud, lxm: WHOAMI }));
      assert.deepEqual([status, body.error], [401, 'BadJwtAudience'], aud);
    }
  });

  it('refuses an expired token', async () => {
    const keypair = env.ctx.signingKeys.get(alice.did)!;
    const issuedEarlier = () => Date.now() - 5 * 60_000;
    const token = await createServiceJwt({ iss: alice.did, aud: serviceDid, lxm: WHOAMI, keypair, now: issuedEarlier });
    const { status, body } = await call(WHOAMI, token);
    assert.deepEqual([status, body.error], [401, 'JwtExpired']);
  });

  it('refuses a token signed by a key other than the issuer’s', async () => {
    const token = await createServiceJwt({ iss: alice.did, aud: serviceDid, lxm: WHOAMI, keypair: env.ctx.signingKeys.get(bob.did)! });
    const { status, body } = await call(WHOAMI, token);
    assert.deepEqual([status, body.error], [401, 'BadJwtSignature']);
  });

  it('accepts a token once: a replay is refused', async () => {
    const token = await serviceToken(bob.agent, { aud: serviceDid, lxm: WHOAMI });
    assert.equal((await call(WHOAMI, token)).status, 200);
    const again = await call(WHOAMI, token);
    assert.deepEqual([again.status, again.body.error], [401, 'BadJwt']);
  });

  it('refuses a token that expires years ahead, or one issued in the future, as BadJwt', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forYears = await call(WHOAMI, await signClaims(alice, { iat: now, exp: now + 3 * 365 * 86_400, jti: 'years' }));
    assert.deepEqual([forYears.status, forYears.body.error], [401, 'BadJwt']);
    assert.match(forYears.body.message as string, /lifetime/);
    const fromTheFuture = await call(WHOAMI, await signClaims(alice, { iat: now + 3600, exp: now + 3660, jti: 'future' }));
    assert.deepEqual([fromTheFuture.status, fromTheFuture.body.error], [401, 'BadJwt']);
    assert.match(fromTheFuture.body.message as string, /issued in the future/);
    // The longest token the official PDS mints (an hour) still works.
    assert.equal((await call(WHOAMI, await signClaims(alice, { iat: now, exp: now + 3600, jti: 'hour' }))).status, 200);
  });

  it('accepts a token without jti once, not again and again', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await signClaims(bob, { iat: now, exp: now + 60 });
    assert.equal((await call(WHOAMI, token)).status, 200);
    for (let i = 0; i < 3; i++) {
      const again = await call(WHOAMI, token);
      assert.deepEqual([again.status, again.body.error], [401, 'BadJwt']);
    }
  });

  it('refuses an iss that is not a DID as BadJwtIss', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { status, body } = await call(WHOAMI, await signClaims(alice, { iss: 'alice.test', exp: now + 60 }));
    assert.deepEqual([status, body.error], [401, 'BadJwtIss']);
  });

  it('refuses garbage, a session access token and a missing token', async () => {
    assert.deepEqual([(await call(WHOAMI, 'not.a.jwt')).body.error], ['BadJwt']);
    const access = await call(WHOAMI, alice.agent.session!.accessJwt);
    assert.equal(access.status, 401);
    assert.ok((SERVICE_AUTH_ERROR_NAMES as readonly string[]).includes(access.body.error as string), String(access.body.error));
    const none = await call(WHOAMI);
    assert.deepEqual([none.status, none.body.error], [401, 'AuthenticationRequired']);
  });
});
