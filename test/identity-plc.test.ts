import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { methods } from '../src/api/index.ts';
import type { AppMethod } from '../src/api/define.ts';
import { identityMethods } from '../src/api/identity-methods.ts';
import { generateKeypair, type Keypair } from '../src/crypto/index.ts';
import {
  cidForPlcOperation,
  createUpdateOperation,
  findPlcOperationSigner,
  signPlcOperation,
  type PlcIdentityFields,
  type PlcOperation,
} from '../src/identity/index.ts';
import { ageEmailToken, eventsOf, logIn, post, signUp, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';

// Until the lead adds `identityMethods` to the registry, the tests put them in the table.
for (const method of identityMethods) {
  if (!methods.some((m) => m.nsid === method.nsid)) (methods as AppMethod[]).push(method);
}

let env: AccountsEnv;
let alice: SignedUp;
/** A rotation key alice holds herself, added to her DID through the flow under test. */
let aliceKey: Keypair;

before(async () => {
  env = await startAccountsEnv();
  alice = await signUp(env, 'alice');
  aliceKey = await generateKeypair('ES256K');
});
after(() => env.close());

const plcData = async (did: string) => (await (await fetch(`${env.plc.url}/${did}/data`)).json()) as PlcIdentityFields & { did: string };
const plcLogLength = async (did: string) => ((await (await fetch(`${env.plc.url}/${did}/log`)).json()) as unknown[]).length;
/** The official client types the operation as a plain object; ours are typed operations. */
const submit = (operation: unknown) => alice.agent.com.atproto.identity.submitPlcOperation({ operation: operation as Record<string, unknown> });
const bearer = (agent: SignedUp['agent']) => ({ authorization: `Bearer ${agent.session!.accessJwt}` });

/** An operation on top of the DID's latest one, signed by `signer`, with `change` applied. */
async function nextOperation(did: string, signer: Keypair, change: (fields: PlcIdentityFields) => PlcIdentityFields): Promise<PlcOperation> {
  const last = await env.ctx.plc.getLastOperation(did);
  assert.notEqual(last.type, 'plc_tombstone');
  return createUpdateOperation(last as PlcOperation, signer, change);
}

describe('getRecommendedDidCredentials', () => {
  it('describes exactly what the account’s PLC document holds when hosted here', async () => {
    const res = await alice.agent.com.atproto.identity.getRecommendedDidCredentials();
    const data = await plcData(alice.did);
    assert.deepEqual(res.data, {
      rotationKeys: data.rotationKeys,
      alsoKnownAs: data.alsoKnownAs,
      verificationMethods: data.verificationMethods,
      services: data.services,
    });
    assert.deepEqual(res.data.rotationKeys, [env.ctx.rotationKey.did()]);
  });
});

describe('requestPlcOperationSignature, signPlcOperation and submitPlcOperation', () => {
  it('mails a code, signs an operation with it once, and submits it to the directory', async () => {
    await alice.agent.com.atproto.identity.requestPlcOperationSignature();
    const mail = await env.smtp.waitForMessage(alice.email);
    assert.equal(mail.subject, 'PLC Update Operation Requested');
    const token = /\b[A-Z2-7]{5}-[A-Z2-7]{5}\b/.exec(mail.text)?.[0];
    assert.ok(token, 'the mail carries a code');

    const before = await plcData(alice.did);
    const rotationKeys = [aliceKey.did(), env.ctx.rotationKey.did()];
    const signed = await alice.agent.com.atproto.identity.signPlcOperation({ token, rotationKeys });
    const op = signed.data.operation as unknown as PlcOperation;
    assert.equal(op.type, 'plc_operation');
    assert.deepEqual(op.rotationKeys, rotationKeys);
    assert.deepEqual([op.alsoKnownAs, op.verificationMethods, op.services], [before.alsoKnownAs, before.verificationMethods, before.services]);
    assert.equal(op.prev, cidForPlcOperation(await env.ctx.plc.getLastOperation(alice.did)));
    assert.equal(findPlcOperationSigner(op, before.rotationKeys), env.ctx.rotationKey.did());

    // Signing does not submit.
    assert.deepEqual((await plcData(alice.did)).rotationKeys, before.rotationKeys);
    const reused = await xrpcError(alice.agent.com.atproto.identity.signPlcOperation({ token, rotationKeys }));
    assert.deepEqual([reused.status, reused.error], [400, 'InvalidToken']);

    const seq = env.ctx.sequencer.latestSeq();
    await submit(op);
    assert.deepEqual((await plcData(alice.did)).rotationKeys, rotationKeys);
    assert.deepEqual(eventsOf(env.ctx, alice.did, seq).map((e) => [e.type, e.body.handle]), [['identity', alice.handle]]);
  });

  it('submits an operation the user signed with their own rotation key, when it keeps the account here', async () => {
    const op = await nextOperation(alice.did, aliceKey, (f) => ({
      ...f,
      services: { ...f.services, atproto_labeler: { type: 'AtprotoLabeler', endpoint: 'https://labeler.example.com' } },
    }));
    await submit(op);
    assert.equal((await plcData(alice.did)).services.atproto_labeler?.endpoint, 'https://labeler.example.com');
  });

  it('refuses operations that would take the identity away from this server', async () => {
    const length = await plcLogLength(alice.did);
    const cases: Array<[string, (f: PlcIdentityFields) => PlcIdentityFields]> = [
      ["Rotation keys do not include server's rotation key", (f) => ({ ...f, rotationKeys: [aliceKey.did()] })],
      ['Incorrect endpoint on atproto_pds service', (f) => ({ ...f, services: { ...f.services, atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://elsewhere.example.com' } } })],
      ['Incorrect type on atproto_pds service', (f) => ({ ...f, services: { ...f.services, atproto_pds: { type: 'SomethingElse', endpoint: env.ctx.config.service.publicUrl } } })],
      ['Incorrect signing key', (f) => ({ ...f, verificationMethods: { ...f.verificationMethods, atproto: aliceKey.did() } })],
      ['Incorrect handle in alsoKnownAs', (f) => ({ ...f, alsoKnownAs: ['at://someone-else.test'] })],
    ];
    for (const [message, change] of cases) {
      const op = await nextOperation(alice.did, aliceKey, change);
      const err = await xrpcError(submit(op));
      assert.deepEqual([err.status, err.error, err.message], [400, 'InvalidRequest', message]);
    }
    for (const operation of [{ type: 'plc_tombstone', prev: 'x', sig: 'y' }, { hello: 'world' }, 'not an object']) {
      const err = await xrpcError(submit(operation));
      assert.deepEqual([err.status, err.error], [400, 'InvalidRequest'], JSON.stringify(operation));
    }
    assert.equal(await plcLogLength(alice.did), length);
  });

  it('passes on the directory’s refusal of an operation signed by a key it does not allow', async () => {
    const stranger = await generateKeypair('ES256K');
    const last = await env.ctx.plc.getLastOperation(alice.did);
    const forged = await createUpdateOperation(last as PlcOperation, aliceKey, (f) => f);
    // Re-sign with a key that is not among the rotation keys: same content, wrong signer.
    const { sig: _sig, ...unsigned } = forged;
    const bySomeoneElse = await signPlcOperation(unsigned, stranger);
    const err = await xrpcError(submit(bySomeoneElse));
    assert.deepEqual([err.status, err.error], [400, 'InvalidRequest']);
  });

  it('refuses to sign without a code, with a wrong code and with an expired one', async () => {
    const missing = await xrpcError(alice.agent.com.atproto.identity.signPlcOperation({}));
    assert.deepEqual([missing.status, missing.error], [400, 'InvalidRequest']);
    await alice.agent.com.atproto.identity.requestPlcOperationSignature();
    const token = await env.smtp.waitForToken(alice.email);
    const wrong = await xrpcError(alice.agent.com.atproto.identity.signPlcOperation({ token: token === 'AAAAA-AAAAA' ? 'BBBBB-BBBBB' : 'AAAAA-AAAAA' }));
    assert.deepEqual([wrong.status, wrong.error], [400, 'InvalidToken']);
    ageEmailToken(env.ctx, alice.did, 'plc_operation');
    const expired = await xrpcError(alice.agent.com.atproto.identity.signPlcOperation({ token }));
    assert.deepEqual([expired.status, expired.error], [400, 'ExpiredToken']);
  });

  it('refuses malformed fields before using up the code', async () => {
    await alice.agent.com.atproto.identity.requestPlcOperationSignature();
    const token = await env.smtp.waitForToken(alice.email);
    for (const body of [{ rotationKeys: 'nope' }, { services: { atproto_pds: 'x' } }, { verificationMethods: { atproto: 7 } }, { rotationKeys: ['not-a-did-key'] }]) {
      const res = await post(env, 'com.atproto.identity.signPlcOperation', { token, ...body }, bearer(alice.agent));
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(((await res.json()) as { error: string }).error, 'InvalidRequest', JSON.stringify(body));
    }
    // The code still works for a well-formed request.
    const signed = await alice.agent.com.atproto.identity.signPlcOperation({ token, alsoKnownAs: [`at://${alice.handle}`] });
    assert.equal((signed.data.operation as unknown as PlcOperation).type, 'plc_operation');
  });

  it('keeps the PLC methods from app-password sessions, privileged ones too', async () => {
    const password = (await alice.agent.com.atproto.server.createAppPassword({ name: 'phone' })).data.password;
    const phone = await logIn(env, alice.handle, password);
    const trusted = (await alice.agent.com.atproto.server.createAppPassword({ name: 'laptop', privileged: true })).data.password;
    const laptop = await logIn(env, alice.handle, trusted);
    for (const agent of [phone, laptop]) {
      for (const nsid of ['requestPlcOperationSignature', 'signPlcOperation', 'submitPlcOperation']) {
        const res = await post(env, `com.atproto.identity.${nsid}`, nsid === 'submitPlcOperation' ? { operation: {} } : {}, bearer(agent));
        assert.equal(res.status, 403, nsid);
      }
    }
    // Reading the recommendation is harmless and allowed.
    assert.ok((await phone.com.atproto.identity.getRecommendedDidCredentials()).data.rotationKeys);
  });
});
