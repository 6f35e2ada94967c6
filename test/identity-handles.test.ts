import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { methods } from '../src/api/index.ts';
import type { AppMethod } from '../src/api/define.ts';
import { identityMethods } from '../src/api/identity-methods.ts';
import { createAppIdentity } from '../src/identity/services.ts';
import { eventsOf, post, signUp, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';

// Until the lead adds `identityMethods` to the registry, the tests put them in the table.
for (const method of identityMethods) {
  if (!methods.some((m) => m.nsid === method.nsid)) (methods as AppMethod[]).push(method);
}

/** DNS as the handle resolver sees it: `_atproto.<handle>` TXT records, set by the tests. */
const txt = new Map<string, string[][]>();
const resolveTxt = async (name: string): Promise<string[][]> => {
  const records = txt.get(name);
  if (records === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return records;
};

let env: AccountsEnv;
let alice: SignedUp;
let bob: SignedUp;

before(async () => {
  env = await startAccountsEnv();
  // The same services the server builds, with DNS answered from the table above.
  const { ctx } = env;
  Object.assign(ctx, { identity: createAppIdentity({ config: ctx.config, fetch: ctx.guardedFetch, plc: ctx.plc, handles: { resolveTxt } }) });
  alice = await signUp(env, 'alice');
  bob = await signUp(env, 'bob');
});
after(() => env.close());

const plcDocument = async (did: string) => (await (await fetch(`${env.plc.url}/${did}`)).json()) as { alsoKnownAs: string[] };
const resolve = (handle: string) => fetch(`${env.url}/xrpc/com.atproto.identity.resolveHandle?handle=${encodeURIComponent(handle)}`);
/** GET /.well-known/atproto-did with a Host header of our choosing (fetch always sends the real one). */
function wellKnown(host: string): Promise<{ status: number; type: string; text(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${env.url}/.well-known/atproto-did`, { headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: async () => body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
const bearer = (agent: SignedUp['agent']) => ({ authorization: `Bearer ${agent.session!.accessJwt}` });

describe('resolveHandle', () => {
  it('answers a local handle from the database, in any letter case', async () => {
    const res = await alice.agent.com.atproto.identity.resolveHandle({ handle: 'ALICE.test' });
    assert.equal(res.data.did, alice.did);
  });

  it('answers HandleNotFound for an unknown handle under our own domain without asking the network', async () => {
    txt.set('_atproto.nobody.test', [[`did=${alice.did}`]]);
    const res = await resolve('nobody.test');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'HandleNotFound');
  });

  it('resolves an external handle through DNS TXT', async () => {
    txt.set('_atproto.someone.example.com', [['did=did:plc:ewvi7nxzyoun6zhxrhs64oiz']]);
    const res = await resolve('someone.example.com');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz' });
  });

  it('answers HandleNotFound for an external handle that resolves nowhere or ambiguously', async () => {
    txt.set('_atproto.twice.example.com', [['did=did:plc:ewvi7nxzyoun6zhxrhs64oiz'], ['did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa']]);
    for (const handle of ['nowhere.example.com', 'twice.example.com']) {
      const err = await xrpcError(alice.agent.com.atproto.identity.resolveHandle({ handle }));
      assert.deepEqual([err.status, err.error], [400, 'HandleNotFound'], handle);
    }
  });

  it('refuses every invalid handle of the interop vectors as a bad request', async () => {
    const lines = readVectors('handle_syntax_invalid.txt');
    assert.ok(lines.length > 30);
    for (const handle of lines) {
      const res = await resolve(handle);
      assert.equal(res.status, 400, handle);
      assert.equal(((await res.json()) as { error: string }).error, 'InvalidRequest', handle);
    }
  });

  it('resolves every valid handle of the interop vectors, except on TLDs that must never resolve', async () => {
    const lines = readVectors('handle_syntax_valid.txt');
    assert.ok(lines.length > 30);
    const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
    for (const handle of lines) txt.set(`_atproto.${handle.toLowerCase()}`, [[`did=${did}`]]);
    for (const handle of lines) {
      const res = await resolve(handle);
      const body = (await res.json()) as { did?: string; error?: string };
      const tld = handle.slice(handle.lastIndexOf('.') + 1).toLowerCase();
      if (['alt', 'arpa', 'example', 'internal', 'invalid', 'local', 'localhost', 'onion', 'test'].includes(tld)) {
        assert.deepEqual([res.status, body.error], [400, 'HandleNotFound'], handle);
      } else {
        assert.deepEqual([res.status, body.did], [200, did], handle);
      }
    }
  });
});

describe('updateHandle', () => {
  it('changes the handle under our domain: account, PLC document, well-known, event, resolution', async () => {
    const before = env.ctx.sequencer.latestSeq();
    await alice.agent.com.atproto.identity.updateHandle({ handle: 'Alicia.test' });

    assert.deepEqual((await plcDocument(alice.did)).alsoKnownAs, ['at://alicia.test']);
    const session = await alice.agent.com.atproto.server.getSession();
    assert.equal(session.data.handle, 'alicia.test');
    assert.deepEqual(eventsOf(env.ctx, alice.did, before).map((e) => [e.type, e.body.did, e.body.handle]), [['identity', alice.did, 'alicia.test']]);

    const known = await wellKnown('alicia.test');
    assert.equal(known.status, 200);
    assert.equal(await known.text(), alice.did);
    assert.equal((await wellKnown('alice.test')).status, 404);
    assert.equal(((await alice.agent.com.atproto.identity.resolveHandle({ handle: 'alicia.test' })).data.did), alice.did);
    assert.equal((await xrpcError(alice.agent.com.atproto.identity.resolveHandle({ handle: 'alice.test' }))).error, 'HandleNotFound');

    const described = await alice.agent.com.atproto.repo.describeRepo({ repo: alice.did });
    assert.equal(described.data.handle, 'alicia.test');
    assert.equal(described.data.handleIsCorrect, true);
    assert.deepEqual((described.data.didDoc as { alsoKnownAs: string[] }).alsoKnownAs, ['at://alicia.test']);
  });

  it('sets the same handle again without a PLC operation, and announces it again', async () => {
    const log = async () => ((await (await fetch(`${env.plc.url}/${bob.did}/log`)).json()) as unknown[]).length;
    const opsBefore = await log();
    const before = env.ctx.sequencer.latestSeq();
    await bob.agent.com.atproto.identity.updateHandle({ handle: 'bob.test' });
    assert.equal(await log(), opsBefore);
    assert.deepEqual(eventsOf(env.ctx, bob.did, before).map((e) => e.type), ['identity']);
  });

  it('refuses a handle another account holds, whatever its case', async () => {
    const err = await xrpcError(alice.agent.com.atproto.identity.updateHandle({ handle: 'BOB.test' }));
    assert.deepEqual([err.status, err.error], [400, 'HandleNotAvailable']);
  });

  it('refuses invalid, too short, dotted and reserved handles under our domain', async () => {
    const cases: Array<[string, string]> = [
      ['al.test', 'InvalidHandle'],
      ['a.b.test', 'InvalidHandle'],
      ['waytoolongforahandle1.test', 'InvalidHandle'],
      ['admin.test', 'HandleNotAvailable'],
    ];
    for (const [handle, error] of cases) {
      const res = await post(env, 'com.atproto.identity.updateHandle', { handle }, bearer(alice.agent));
      assert.equal(res.status, 400, handle);
      assert.equal(((await res.json()) as { error: string }).error, error, handle);
    }
    const res = await post(env, 'com.atproto.identity.updateHandle', { handle: 'not a handle' }, bearer(alice.agent));
    assert.equal(res.status, 400);
    assert.deepEqual((await plcDocument(alice.did)).alsoKnownAs, ['at://alicia.test']);
  });

  it('refuses an external handle that does not resolve to the caller', async () => {
    txt.set('_atproto.bobs-domain.com', [[`did=${bob.did}`]]);
    for (const handle of ['bobs-domain.com', 'unclaimed.com']) {
      const err = await xrpcError(alice.agent.com.atproto.identity.updateHandle({ handle }));
      assert.equal(err.status, 400, handle);
      assert.equal(err.error, 'InvalidRequest', handle);
      assert.match(err.message, /did not resolve to DID/);
    }
    assert.equal(env.ctx.accounts.byDid(alice.did)?.handle, 'alicia.test');
  });

  it('refuses an external handle on a TLD that must never resolve', async () => {
    txt.set('_atproto.alice.onion', [[`did=${alice.did}`]]);
    const err = await xrpcError(alice.agent.com.atproto.identity.updateHandle({ handle: 'alice.onion' }));
    assert.deepEqual([err.status, err.error], [400, 'InvalidHandle']);
  });

  it('takes an external handle that resolves to the caller, and checks it both ways after', async () => {
    txt.set('_atproto.alice.example.org', [[`did=${alice.did}`]]);
    await alice.agent.com.atproto.identity.updateHandle({ handle: 'Alice.Example.org' });
    assert.deepEqual((await plcDocument(alice.did)).alsoKnownAs, ['at://alice.example.org']);
    assert.equal(env.ctx.accounts.byDid(alice.did)?.handle, 'alice.example.org');
    // Not one of our domains: the well-known stays silent for it.
    assert.equal((await wellKnown('alice.example.org')).status, 404);
    let described = await alice.agent.com.atproto.repo.describeRepo({ repo: alice.did });
    assert.equal(described.data.handleIsCorrect, true);

    // The owner points the domain elsewhere: the handle no longer checks out.
    txt.set('_atproto.alice.example.org', [[`did=${bob.did}`]]);
    env.ctx.identity.handles.invalidate('alice.example.org');
    described = await alice.agent.com.atproto.repo.describeRepo({ repo: alice.did });
    assert.equal(described.data.handleIsCorrect, false);
  });

  it('reports handleIsCorrect false when the DID document names another handle', async () => {
    await env.ctx.plc.updateHandle(bob.did, env.ctx.rotationKey, 'someone-else.test');
    env.ctx.identity.dids.invalidate(bob.did);
    const described = await bob.agent.com.atproto.repo.describeRepo({ repo: 'bob.test' });
    assert.equal(described.data.handleIsCorrect, false);
    assert.deepEqual((described.data.didDoc as { alsoKnownAs: string[] }).alsoKnownAs, ['at://someone-else.test']);

    // updateHandle repairs it: the document must name the handle, so it is updated.
    await bob.agent.com.atproto.identity.updateHandle({ handle: 'bob.test' });
    assert.deepEqual((await plcDocument(bob.did)).alsoKnownAs, ['at://bob.test']);
    assert.equal((await bob.agent.com.atproto.repo.describeRepo({ repo: 'bob.test' })).data.handleIsCorrect, true);
  });

  it('gives a handle two accounts ask for at once to exactly one, and leaves the other’s document alone', async () => {
    const carol = await signUp(env, 'carol');
    const dave = await signUp(env, 'dave');
    const results = await Promise.allSettled([carol, dave].map((a) => a.agent.com.atproto.identity.updateHandle({ handle: 'wanted.test' })));
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const loser = results[0].status === 'rejected' ? carol : dave;
    const winner = loser === carol ? dave : carol;
    const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as { error: string };
    assert.equal(reason.error, 'HandleNotAvailable');
    assert.equal(env.ctx.accounts.byHandle('wanted.test')?.did, winner.did);
    assert.deepEqual((await plcDocument(loser.did)).alsoKnownAs, [`at://${loser.handle}`]);
    assert.deepEqual((await plcDocument(winner.did)).alsoKnownAs, ['at://wanted.test']);
  });

  it('needs a session', async () => {
    const res = await post(env, 'com.atproto.identity.updateHandle', { handle: 'carol.test' });
    assert.equal(res.status, 401);
  });
});

describe('/.well-known/atproto-did', () => {
  it('answers by Host, ignoring the port and letter case, only for active accounts', async () => {
    const res = await wellKnown('BOB.test:443');
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain/);
    assert.equal(await res.text(), bob.did);
    assert.equal((await wellKnown('nobody.test')).status, 404);
    assert.equal((await wellKnown('127.0.0.1')).status, 404);

    env.ctx.accounts.setDeactivated(bob.did, new Date().toISOString());
    try {
      assert.equal((await wellKnown('bob.test')).status, 404);
      assert.equal((await resolve('bob.test')).status, 400);
    } finally {
      env.ctx.accounts.setDeactivated(bob.did, null);
    }
  });
});

function readVectors(file: string): string[] {
  const text = readFileSync(new URL(`../../shared/interop/syntax/${file}`, import.meta.url), 'utf8');
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}
