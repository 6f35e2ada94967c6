import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DidNotFoundError } from '../identity/errors.ts';
import type { PlcData } from '../identity/plc-types.ts';
import { didDocumentProblem } from './did-doc-check.ts';

const did = 'did:plc:checkaaaaaaaaaaaaaaaaaaa';
const rotationKeyDid = 'did:key:zQ3shRotation';
const signingKeyDid = 'did:key:zQ3shSigning';
const publicUrl = 'https://pds.example.com';

function data(over: Partial<PlcData> = {}): PlcData {
  return {
    did,
    rotationKeys: [rotationKeyDid],
    verificationMethods: { atproto: signingKeyDid },
    alsoKnownAs: ['at://check.example.com'],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: publicUrl } },
    ...over,
  };
}

/** The directory's answer for the DID, as the PLC client would give it. */
function directory(answer: PlcData | Error) {
  return {
    async getDocumentData(asked: string): Promise<PlcData> {
      assert.equal(asked, did);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

const check = (answer: PlcData | Error, account = { did, signingKeyDid }) =>
  didDocumentProblem({ plc: directory(answer), rotationKeyDid, publicUrl }, account);

describe('DID document check', () => {
  it('passes a document naming this PDS, the account key and the server rotation key', async () => {
    assert.equal(await check(data()), undefined);
    assert.equal(await check(data({ services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: `${publicUrl}/` } } })), undefined);
    assert.equal(await check(data({ rotationKeys: ['did:key:zQ3shUser', rotationKeyDid] })), undefined);
  });

  it('names what is wrong otherwise', async () => {
    assert.match((await check(data({ rotationKeys: ['did:key:zQ3shOther'] })))!, /rotation key/);
    assert.match((await check(data({ services: {} })))!, /service endpoint/);
    assert.match((await check(data({ services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://elsewhere.example' } } })))!, /service endpoint/);
    assert.match((await check(data({ services: { atproto_pds: { type: 'Other', endpoint: publicUrl } } })))!, /service endpoint/);
    assert.match((await check(data({ verificationMethods: { atproto: 'did:key:zQ3shOld' } })))!, /signing key/);
    assert.match((await check(data({ verificationMethods: {} })))!, /signing key/);
    assert.match((await check(new DidNotFoundError('not registered')))!, /Could not read the DID document/);
    assert.match((await check(data(), { did: 'did:web:example.com', signingKeyDid }))!, /did:plc/);
  });
});
