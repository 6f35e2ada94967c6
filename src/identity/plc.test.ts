import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeypair, type Keypair } from '../crypto/index.ts';
import { encodeCbor } from '../ipld/cbor.ts';
import { DidResolver } from './did-resolver.ts';
import { DidDeactivatedError, DidNotFoundError, InvalidDidError, PlcOperationError, PlcRequestError } from './errors.ts';
import { cidForPlcOperation, didForGenesisOperation, isPlcDid } from './plc-hash.ts';
import {
  createGenesisOperation,
  createTombstoneOperation,
  signPlcOperation,
  updateHandleOperation,
  updateRotationKeysOperation,
} from './plc-operation.ts';
import type { LegacyPlcCreateOperation, PlcOperation } from './plc-types.ts';
import {
  MAX_PLC_OPERATION_BYTES,
  assertValidPlcOperation,
  findPlcOperationSigner,
  normalizePlcOperation,
  parsePlcOperation,
  validatePlcOperationLog,
} from './plc-validate.ts';
import { startTestPlc, type TestPlc } from './testing-plc.ts';

describe('did:plc against a real PLC directory', () => {
  let plc: TestPlc;
  let rotation: Keypair;
  let recovery: Keypair;
  let signing: Keypair;

  before(async () => {
    plc = await startTestPlc();
    [rotation, recovery, signing] = await Promise.all([generateKeypair('ES256K'), generateKeypair('ES256'), generateKeypair('ES256K')]);
  });
  after(() => plc.close());

  async function createDid(handle: string, signingKey: Keypair = signing) {
    const { did, operation } = await createGenesisOperation(
      { rotationKeys: [recovery.did(), rotation.did()], signingKey: signingKey.did(), handle, pdsEndpoint: 'https://pds.example.com' },
      rotation,
    );
    await plc.client.submitOperation(did, operation);
    return { did, operation };
  }

  test('registers a genesis operation under the DID derived from it', async () => {
    const { did, operation } = await createDid('Alice.Test');
    assert.ok(isPlcDid(did), did);
    assert.equal(did, didForGenesisOperation(operation));
    assert.equal(operation.prev, null);
    assert.deepEqual(operation.alsoKnownAs, ['at://alice.test']);
    assert.deepEqual(await plc.client.getLastOperation(did), operation);
  });

  test('resolves the document, reading the legacy-form key the test directory serves', async () => {
    const { did } = await createDid('bob.test');
    const doc = await plc.client.getDocument(did);
    assert.equal(doc.verificationMethod?.[0].type, 'EcdsaSecp256k1VerificationKey2019');
    const resolver = new DidResolver({ plc: plc.client });
    assert.deepEqual(await resolver.resolveIdentity(did), {
      did,
      handle: 'bob.test',
      signingKey: signing.did(),
      pds: 'https://pds.example.com',
    });
  });

  test('reads a P-256 signing key in its legacy form too', async () => {
    const p256 = await generateKeypair('ES256');
    const { did } = await createDid('carol.test', p256);
    const doc = await plc.client.getDocument(did);
    assert.equal(doc.verificationMethod?.[0].type, 'EcdsaSecp256r1VerificationKey2019');
    const resolver = new DidResolver({ plc: plc.client });
    assert.equal(await resolver.resolveSigningKey(did), p256.did());
  });

  test('updates the handle with a signed operation, seen once the cache is bypassed', async () => {
    const { did } = await createDid('dave.test');
    const resolver = new DidResolver({ plc: plc.client, cache: { minRefreshIntervalMs: 0 } });
    assert.equal((await resolver.resolveIdentity(did)).handle, 'dave.test');
    const op = await plc.client.updateHandle(did, rotation, 'david.test');
    assert.equal(op.prev, cidForPlcOperation((await plc.client.getOperationLog(did))[0]));
    assert.equal((await resolver.resolveIdentity(did)).handle, 'dave.test', 'still cached');
    assert.equal((await resolver.resolveIdentity(did, { forceRefresh: true })).handle, 'david.test');
  });

  test('moves the PDS and rotates the signing key, and the log replays to the same state', async () => {
    const { did } = await createDid('erin.test');
    const newKey = await generateKeypair('ES256K');
    await plc.client.updatePds(did, recovery, 'https://other-pds.example.com');
    await plc.client.updateSigningKey(did, rotation, newKey.did());
    const data = await plc.client.getDocumentData(did);
    assert.equal(data.services.atproto_pds.endpoint, 'https://other-pds.example.com');
    assert.equal(data.verificationMethods.atproto, newKey.did());
    const log = await plc.client.getOperationLog(did);
    assert.equal(log.length, 3);
    assert.deepEqual(validatePlcOperationLog(did, log), data);
  });

  test('lists the audit log with the CIDs we compute', async () => {
    const { did } = await createDid('frank.test');
    await plc.client.updateHandle(did, rotation, 'frankie.test');
    const audit = await plc.client.getAuditLog(did);
    assert.equal(audit.length, 2);
    for (const entry of audit) {
      assert.equal(entry.cid, cidForPlcOperation(entry.operation));
      assert.equal(entry.nullified, false);
    }
  });

  test('replaces the rotation keys, after which only the new ones can sign', async () => {
    const { did, operation } = await createDid('gina.test');
    const fresh = await generateKeypair('ES256K');
    const rotated = await updateRotationKeysOperation(operation, rotation, [fresh.did()]);
    await plc.client.submitOperation(did, rotated);
    await assert.rejects(updateHandleOperation(rotated, rotation, 'x.test'), PlcOperationError);
    await plc.client.updateHandle(did, fresh, 'gina2.test');
    assert.equal((await plc.client.getDocument(did)).alsoKnownAs?.[0], 'at://gina2.test');
  });

  test('passes on the directory refusing an operation signed by a stranger', async () => {
    const { did, operation } = await createDid('hank.test');
    const stranger = await generateKeypair('ES256K');
    const forged = await signPlcOperation({ ...normalizeUnsigned(operation), alsoKnownAs: ['at://evil.test'], prev: cidForPlcOperation(operation) }, stranger);
    await assert.rejects(plc.client.submitOperation(did, forged), (err: unknown) => err instanceof PlcRequestError && err.status === 400);
  });

  test('reports a tombstoned DID as deactivated and an unknown one as not found', async () => {
    const { did, operation } = await createDid('ivy.test');
    await plc.client.submitOperation(did, await createTombstoneOperation(operation, rotation));
    await assert.rejects(plc.client.getDocument(did), DidDeactivatedError);
    await assert.rejects(new DidResolver({ plc: plc.client }).resolve(did), DidDeactivatedError);
    assert.equal(validatePlcOperationLog(did, await plc.client.getOperationLog(did)), null);
    await assert.rejects(plc.client.getDocument('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'), DidNotFoundError);
  });

  test('refuses to talk to the directory about something that is not a did:plc', async () => {
    await assert.rejects(plc.client.getDocument('did:web:example.com'), InvalidDidError);
    await assert.rejects(plc.client.getDocument('did:plc:../../export'), InvalidDidError);
  });

  test('reports an unreachable directory as a request error with status 0', async () => {
    const closed = new (await import('./plc-client.ts')).PlcClient({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    await assert.rejects(closed.getDocument('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'), (err: unknown) => err instanceof PlcRequestError && err.status === 0);
  });
});

function normalizeUnsigned(op: PlcOperation) {
  const { sig: _sig, ...rest } = op;
  return rest;
}

describe('did:plc operations offline', () => {
  test('the genesis operation must be signed by one of its rotation keys', async () => {
    const [a, b] = await Promise.all([generateKeypair(), generateKeypair()]);
    await assert.rejects(
      createGenesisOperation({ rotationKeys: [a.did()], signingKey: b.did(), pdsEndpoint: 'https://pds.example.com' }, b),
      PlcOperationError,
    );
  });

  test('enforces the directory limits on new operations', async () => {
    const key = await generateKeypair();
    const base = {
      type: 'plc_operation' as const,
      rotationKeys: [key.did()],
      verificationMethods: { atproto: key.did() },
      alsoKnownAs: ['at://a.test'],
      services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://pds.example.com' } },
      prev: null,
    };
    assert.doesNotThrow(() => assertValidPlcOperation(base));
    const others = await Promise.all([1, 2, 3, 4, 5].map(() => generateKeypair()));
    const bad = [
      { ...base, rotationKeys: [] },
      { ...base, rotationKeys: [key.did(), ...others.map((k) => k.did())] },
      { ...base, rotationKeys: [key.did(), key.did()] },
      { ...base, rotationKeys: ['did:key:zNotAKey'] },
      { ...base, verificationMethods: { atproto: 'https://not-a-key' } },
      { ...base, verificationMethods: { '#atproto': key.did() } },
      { ...base, services: { atproto_pds: { type: '', endpoint: 'https://x' } } },
      { ...base, prev: 'not-a-cid' },
      { ...base, alsoKnownAs: ['at://' + 'a'.repeat(MAX_PLC_OPERATION_BYTES)] },
    ];
    for (const op of bad) assert.throws(() => assertValidPlcOperation(op), PlcOperationError, JSON.stringify(op).slice(0, 200));
  });

  test('normalizes a legacy create operation and validates a log that starts with one', async () => {
    const [signingKey, recoveryKey] = await Promise.all([generateKeypair(), generateKeypair()]);
    const unsigned = { type: 'create', signingKey: signingKey.did(), recoveryKey: recoveryKey.did(), handle: 'old.test', service: 'pds.example.com', prev: null };
    const sig = Buffer.from(await recoveryKey.sign(encodeCbor(unsigned))).toString('base64url');
    const legacy = parsePlcOperation({ ...unsigned, sig }) as LegacyPlcCreateOperation;
    const did = didForGenesisOperation(legacy);
    const normal = normalizePlcOperation(legacy);
    assert.deepEqual(normal.rotationKeys, [recoveryKey.did(), signingKey.did()]);
    assert.deepEqual(normal.alsoKnownAs, ['at://old.test']);
    assert.equal(normal.services.atproto_pds.endpoint, 'https://pds.example.com');
    // The legacy signing key is also a rotation key, so it may sign the next operation.
    const next = await updateHandleOperation(legacy, signingKey, 'new.test');
    assert.equal(next.prev, cidForPlcOperation(legacy));
    const state = validatePlcOperationLog(did, [legacy, next]);
    assert.deepEqual(state?.alsoKnownAs, ['at://new.test']);
  });

  test('log validation catches a wrong DID, a broken chain and a forged signature', async () => {
    const [key, stranger] = await Promise.all([generateKeypair(), generateKeypair()]);
    const { did, operation } = await createGenesisOperation({ rotationKeys: [key.did()], signingKey: key.did(), pdsEndpoint: 'https://p.example.com' }, key);
    const next = await updateHandleOperation(operation, key, 'n.test');
    assert.ok(validatePlcOperationLog(did, [operation, next]));
    assert.throws(() => validatePlcOperationLog('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', [operation]), PlcOperationError);
    assert.throws(() => validatePlcOperationLog(did, [operation, { ...next, prev: cidForPlcOperation(next) }]), PlcOperationError);
    const forged = await signPlcOperation(normalizeUnsigned(next), stranger);
    assert.throws(() => validatePlcOperationLog(did, [operation, forged]), PlcOperationError);
    assert.throws(() => validatePlcOperationLog(did, []), PlcOperationError);
  });

  test('accepts a historical high-S signature but not a padded or non-canonical one', async () => {
    const key = await generateKeypair('ES256K');
    const { operation } = await createGenesisOperation({ rotationKeys: [key.did()], signingKey: key.did(), pdsEndpoint: 'https://p.example.com' }, key);
    const sig = Buffer.from(operation.sig, 'base64url');
    const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
    const high = Buffer.concat([sig.subarray(0, 32), Buffer.from((n - BigInt(`0x${sig.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0'), 'hex')]);
    assert.equal(findPlcOperationSigner({ ...operation, sig: high.toString('base64url') }, [key.did()]), key.did());
    assert.equal(findPlcOperationSigner({ ...operation, sig: `${operation.sig}==` }, [key.did()]), undefined);
    // The last of 86 characters carries 4 bits and 2 zero bits; setting one of those is a second spelling.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(operation.sig.at(-1) as string);
    const sloppy = operation.sig.slice(0, -1) + alphabet[last | 1];
    assert.deepEqual(Buffer.from(sloppy, 'base64url'), sig);
    assert.equal(findPlcOperationSigner({ ...operation, sig: sloppy }, [key.did()]), undefined);
  });

  test('parsePlcOperation refuses malformed operations', () => {
    const bad: unknown[] = [
      null,
      { type: 'plc_operation' },
      { type: 'plc_operation', sig: 'x', rotationKeys: 'k', verificationMethods: {}, alsoKnownAs: [], services: {}, prev: null },
      { type: 'plc_operation', sig: 'x', rotationKeys: [], verificationMethods: { a: 1 }, alsoKnownAs: [], services: {}, prev: null },
      { type: 'plc_operation', sig: 'x', rotationKeys: [], verificationMethods: {}, alsoKnownAs: [], services: { a: { type: 't' } }, prev: null },
      { type: 'plc_tombstone', sig: 'x', prev: null },
      { type: 'create', sig: 'x', signingKey: 'a', recoveryKey: 'b', handle: 'h', service: 's', prev: 'x' },
      { type: 'other', sig: 'x' },
    ];
    for (const value of bad) assert.throws(() => parsePlcOperation(value), PlcOperationError, JSON.stringify(value));
  });
});
