import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import * as officialPlc from '@did-plc/lib';
import { Secp256k1Keypair, P256Keypair } from '@atproto/crypto';
import { IdResolver } from '@atproto/identity';
import { Database, migrate, migrations } from '../../db/index.ts';
import { generateKeypair } from '../../crypto/index.ts';
import { PlcClient } from '../plc-client.ts';
import { DidDeactivatedError } from '../errors.ts';
import { createGenesisOperation, signPlcOperation } from '../plc-operation.ts';
import { cidForPlcOperation } from '../plc-hash.ts';
import type { PlcOperation } from '../plc-types.ts';
import { LocalPlcDirectory, PLC_RECOVERY_WINDOW_MS } from './plc-directory.ts';
import { createPlcHttpServer } from './plc-http.ts';
import { createInProcessPlcFetch } from './plc-in-process.ts';
import { SqlitePlcOperationStore } from './plc-store.ts';

/** A directory over a fresh SQLite database, on a loopback port, with a clock the test can move. */
async function startDirectory() {
  const db = new Database(':memory:');
  assert.equal(migrate(db, migrations).error, undefined);
  const clock = { now: Date.now() };
  const directory = new LocalPlcDirectory(new SqlitePlcOperationStore(db), { now: () => new Date(clock.now) });
  const server: Server = createPlcHttpServer(directory, (err) => assert.fail(String(err)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    db,
    directory,
    clock,
    url,
    official: new officialPlc.Client(url),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      db.close();
    },
  };
}

type Directory = Awaited<ReturnType<typeof startDirectory>>;

async function post(url: string, did: string, op: unknown): Promise<{ status: number; message: string }> {
  const res = await fetch(`${url}/${did}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(op) });
  const text = await res.text();
  return { status: res.status, message: res.ok ? text : (JSON.parse(text) as { message: string }).message };
}

describe('the built-in PLC directory, driven by the official PLC client', () => {
  let dir: Directory;
  before(async () => {
    dir = await startDirectory();
  });
  after(() => dir.close());

  it('registers a DID the official client creates, and serves its document, data, logs and last operation', async () => {
    const rotation = await Secp256k1Keypair.create();
    const signing = await Secp256k1Keypair.create();
    const did = await dir.official.createDid({ signingKey: signing.did(), handle: 'alice.test', pds: 'https://pds.example.com', rotationKeys: [rotation.did()], signer: rotation });

    const doc = await dir.official.getDocument(did);
    assert.equal(doc.id, did);
    assert.deepEqual(doc.alsoKnownAs, ['at://alice.test']);
    assert.deepEqual(doc.verificationMethod, [{ id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: signing.did().slice('did:key:'.length) }]);
    assert.deepEqual(doc.service, [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.example.com' }]);

    const data = await dir.official.getDocumentData(did);
    assert.deepEqual(data.rotationKeys, [rotation.did()]);
    const log = await dir.official.getOperationLog(did);
    assert.equal(log.length, 1);
    // The official library's own log check accepts what the directory hands out.
    assert.deepEqual(await officialPlc.validateOperationLog(did, log), data);
    const audit = await dir.official.getAuditableLog(did);
    assert.equal(audit.length, 1);
    assert.equal(audit[0].nullified, false);
    assert.equal(audit[0].cid, cidForPlcOperation(log[0] as PlcOperation));
    assert.deepEqual(await dir.official.getLastOp(did), log[0]);
  });

  it('follows handle, PDS, signing key and rotation key updates and ends with a tombstone', async () => {
    const rotation = await Secp256k1Keypair.create();
    const next = await P256Keypair.create();
    const did = await dir.official.createDid({ signingKey: rotation.did(), handle: 'bob.test', pds: 'https://a.example.com', rotationKeys: [rotation.did()], signer: rotation });
    await dir.official.updateHandle(did, rotation, 'robert.test');
    await dir.official.updatePds(did, rotation, 'https://b.example.com');
    const newSigning = await Secp256k1Keypair.create();
    await dir.official.updateAtprotoKey(did, rotation, newSigning.did());
    await dir.official.updateRotationKeys(did, rotation, [next.did()]);
    // The old rotation key is out of force now.
    await assert.rejects(dir.official.updateHandle(did, rotation, 'mallory.test'), (err: officialPlc.PlcClientError) => err.status === 400);

    const data = await dir.official.getDocumentData(did);
    assert.deepEqual(data.alsoKnownAs, ['at://robert.test']);
    assert.equal(data.services.atproto_pds.endpoint, 'https://b.example.com');
    assert.equal(data.verificationMethods.atproto, newSigning.did());
    assert.deepEqual(data.rotationKeys, [next.did()]);
    assert.equal((await dir.official.getOperationLog(did)).length, 5);

    await dir.official.tombstone(did, next);
    const res = await fetch(`${dir.url}/${did}`);
    assert.equal(res.status, 410);
    assert.equal((await dir.official.getOperationLog(did)).length, 6);
    await assert.rejects(dir.official.updateHandle(did, next, 'back.test'));
  });

  it('is read by the official resolver (@atproto/identity) like the public directory', async () => {
    const rotation = await Secp256k1Keypair.create();
    const did = await dir.official.createDid({ signingKey: rotation.did(), handle: 'carol.test', pds: 'https://pds.example.com', rotationKeys: [rotation.did()], signer: rotation });
    const resolver = new IdResolver({ plcUrl: dir.url, fetch: globalThis.fetch });
    const atproto = await resolver.did.resolveAtprotoData(did);
    assert.deepEqual(atproto, { did, signingKey: rotation.did(), handle: 'carol.test', pds: 'https://pds.example.com' });
    assert.equal(await resolver.did.resolve('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'), null);
    await dir.official.tombstone(did, rotation);
    assert.equal(await new IdResolver({ plcUrl: dir.url, fetch: globalThis.fetch }).did.resolve(did).catch((err: { status?: number }) => err.status), 410);
  });

  it('answers Squall’s own PLC client in process exactly as over HTTP', async () => {
    const inProcess = new PlcClient({ url: 'http://localhost:2582', fetch: createInProcessPlcFetch(dir.directory) });
    const [rotation, signing] = await Promise.all([generateKeypair('ES256K'), generateKeypair('ES256')]);
    const { did, operation } = await createGenesisOperation({ rotationKeys: [rotation.did()], signingKey: signing.did(), handle: 'dave.test', pdsEndpoint: 'http://localhost:2583' }, rotation);
    await inProcess.submitOperation(did, operation);
    await inProcess.updateHandle(did, rotation, 'david.test');
    assert.deepEqual(await inProcess.getOperationLog(did), await dir.official.getOperationLog(did));
    assert.deepEqual(await inProcess.getDocumentData(did), await dir.official.getDocumentData(did));
    await assert.rejects(inProcess.getDocument('did:plc:bbbbbbbbbbbbbbbbbbbbbbbb'), { name: 'DidNotFoundError' });
  });
});

describe('the built-in PLC directory refuses what the public one refuses', () => {
  let dir: Directory;
  before(async () => {
    dir = await startDirectory();
  });
  after(() => dir.close());

  async function genesis(handle = 'x.test') {
    const [rotation, recovery] = await Promise.all([generateKeypair('ES256K'), generateKeypair('ES256K')]);
    const { did, operation } = await createGenesisOperation({ rotationKeys: [recovery.did(), rotation.did()], signingKey: rotation.did(), handle, pdsEndpoint: 'https://pds.example.com' }, rotation);
    return { did, operation, rotation, recovery };
  }

  it('a genesis submitted under a DID it does not hash to', async () => {
    const { operation } = await genesis();
    const other = await genesis('y.test');
    const answer = await post(dir.url, other.did, operation);
    assert.equal(answer.status, 400);
    assert.match(answer.message, /does not hash to this DID/);
  });

  it('a genesis not signed by one of its own rotation keys', async () => {
    const outsider = await generateKeypair('ES256K');
    const keys = await generateKeypair('ES256K');
    const unsigned = { type: 'plc_operation' as const, rotationKeys: [keys.did()], verificationMethods: {}, alsoKnownAs: [], services: {}, prev: null };
    const op = await signPlcOperation(unsigned, outsider);
    const { didForGenesisOperation } = await import('../plc-hash.ts');
    const answer = await post(dir.url, didForGenesisOperation(op), op);
    assert.equal(answer.status, 400);
    assert.match(answer.message, /invalid signature/);
  });

  it('an update signed by a key that is not a rotation key, or pointing at no operation of the DID', async () => {
    const { did, operation, rotation } = await genesis();
    assert.equal((await post(dir.url, did, operation)).status, 200);
    const outsider = await generateKeypair('ES256K');
    const base = { ...operation, alsoKnownAs: ['at://changed.test'], prev: cidForPlcOperation(operation) };
    const { sig: _sig, ...unsigned } = base;
    const forged = await signPlcOperation(unsigned, outsider);
    assert.match((await post(dir.url, did, forged)).message, /invalid signature/);
    const lost = await signPlcOperation({ ...unsigned, prev: cidForPlcOperation(forged) }, rotation);
    assert.match((await post(dir.url, did, lost)).message, /prev is not a valid operation/);
    const genesisAgain = await signPlcOperation({ ...unsigned, prev: null }, rotation);
    assert.match((await post(dir.url, did, genesisAgain)).message, /needs prev/);
    assert.match((await post(dir.url, did, operation)).message, /already in the log/);
  });

  it('malformed operations: legacy create, extra fields, too many rotation keys, a body that is not JSON', async () => {
    const { did, operation, rotation } = await genesis();
    const legacy = { type: 'create', signingKey: rotation.did(), recoveryKey: rotation.did(), handle: 'old.test', service: 'https://pds.example.com', prev: null, sig: 'AAAA' };
    assert.match((await post(dir.url, did, legacy)).message, /legacy create/);
    assert.match((await post(dir.url, did, { ...operation, extra: 1 })).message, /unexpected field/);
    const keys = await Promise.all(Array.from({ length: 6 }, () => generateKeypair('ES256K')));
    assert.match((await post(dir.url, did, { ...operation, rotationKeys: keys.map((k) => k.did()) })).message, /1 to 5 rotation keys/);
    const res = await fetch(`${dir.url}/${did}`, { method: 'POST', body: '{not json' });
    assert.equal(res.status, 400);
    const huge = await fetch(`${dir.url}/${did}`, { method: 'POST', body: 'x'.repeat(100_000) });
    assert.equal(huge.status, 413);
    assert.equal((await fetch(`${dir.url}/not-a-did`)).status, 400);
    assert.equal((await fetch(`${dir.url}/${did}/nothing`)).status, 404);
  });

  it('lets a higher-ranked rotation key fork away a recent operation, and nothing else', async () => {
    const { did, operation, rotation, recovery } = await genesis();
    await post(dir.url, did, operation);
    const prev = cidForPlcOperation(operation);
    const { sig: _sig, ...fields } = operation;
    const hijack = await signPlcOperation({ ...fields, alsoKnownAs: ['at://hijacked.test'], prev }, rotation);
    assert.equal((await post(dir.url, did, hijack)).status, 200);

    // The lower-ranked key cannot fork its own operation away.
    const sameRank = await signPlcOperation({ ...fields, alsoKnownAs: ['at://again.test'], prev }, rotation);
    assert.match((await post(dir.url, did, sameRank)).message, /ranked above/);

    const recovered = await signPlcOperation({ ...fields, alsoKnownAs: ['at://recovered.test'], prev }, recovery);
    assert.equal((await post(dir.url, did, recovered)).status, 200);
    const audit = await dir.official.getAuditableLog(did);
    assert.deepEqual(audit.map((e) => e.nullified), [false, true, false]);
    assert.deepEqual((await dir.official.getDocumentData(did)).alsoKnownAs, ['at://recovered.test']);
    assert.equal((await dir.official.getOperationLog(did)).length, 2);
  });

  it('refuses a recovery after the 72 hour window', async () => {
    const { did, operation, rotation, recovery } = await genesis();
    await post(dir.url, did, operation);
    const prev = cidForPlcOperation(operation);
    const { sig: _sig, ...fields } = operation;
    await post(dir.url, did, await signPlcOperation({ ...fields, alsoKnownAs: ['at://late.test'], prev }, rotation));
    dir.clock.now += PLC_RECOVERY_WINDOW_MS + 60_000;
    const late = await signPlcOperation({ ...fields, alsoKnownAs: ['at://too-late.test'], prev }, recovery);
    assert.match((await post(dir.url, did, late)).message, /too late/);
    dir.clock.now = Date.now();
  });

  it('exports every operation as JSON lines, like the public directory', async () => {
    const lines = (await dir.official.export()) as Array<{ did: string; cid: string }>;
    assert.ok(lines.length >= 5);
    assert.ok(lines.every((l) => l.did.startsWith('did:plc:') && typeof l.cid === 'string'));
  });
});

describe('the built-in PLC directory’s storage', () => {
  it('keeps the operations in the database across restarts', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dirPath = mkdtempSync(join(tmpdir(), 'squall-plc-'));
    const file = join(dirPath, 'squall.sqlite');
    const rotation = await generateKeypair('ES256K');
    const { did, operation } = await createGenesisOperation({ rotationKeys: [rotation.did()], signingKey: rotation.did(), pdsEndpoint: 'https://pds.example.com' }, rotation);
    let db = new Database(file);
    migrate(db, migrations);
    await new LocalPlcDirectory(new SqlitePlcOperationStore(db)).submit(did, operation);
    db.close();
    db = new Database(file);
    const reopened = new LocalPlcDirectory(new SqlitePlcOperationStore(db));
    assert.deepEqual(await reopened.log(did), [operation]);
    await assert.rejects(reopened.document('did:plc:cccccccccccccccccccccccc'), (err: Error) => err.name === 'DidNotFoundError' && !(err instanceof DidDeactivatedError));
    db.close();
    rmSync(dirPath, { recursive: true });
  });
});
