import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { verifySignatureSync } from '../crypto/index.ts';
import {
  extractAtprotoIdentity,
  getAtprotoSigningKey,
  getHandle,
  getPdsEndpoint,
  getServiceEndpoint,
  getVerificationKey,
  normalizeServiceEndpoint,
  parseDidDocument,
  type DidDocument,
} from './did-document.ts';
import { InvalidDidDocumentError } from './errors.ts';
import { verifySignatureAllowingHighS } from './signature.ts';

interface SignatureFixture {
  comment: string;
  messageBase64: string;
  algorithm: 'ES256' | 'ES256K';
  didDocSuite: string;
  publicKeyDid: string;
  publicKeyMultibase: string;
  signatureBase64: string;
  validSignature: boolean;
  tags: string[];
}

const fixtures = JSON.parse(
  readFileSync(new URL('../../../shared/interop/crypto/signature-fixtures.json', import.meta.url), 'utf8'),
) as SignatureFixture[];

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';

function docWith(method: Record<string, unknown>): DidDocument {
  return parseDidDocument({ id: DID, verificationMethod: [{ id: '#atproto', controller: DID, ...method }] }, DID);
}

describe('atproto signing keys from the interop signature vectors', () => {
  for (const f of fixtures) {
    test(`reads the ${f.algorithm} key in legacy ${f.didDocSuite} form (${f.comment})`, () => {
      const doc = docWith({ type: f.didDocSuite, publicKeyMultibase: f.publicKeyMultibase });
      assert.equal(getAtprotoSigningKey(doc), f.publicKeyDid);
    });

    test(`reads the ${f.algorithm} key in Multikey form (${f.comment})`, () => {
      const doc = docWith({ type: 'Multikey', publicKeyMultibase: f.publicKeyDid.slice('did:key:'.length) });
      assert.equal(getAtprotoSigningKey(doc), f.publicKeyDid);
    });

    // JWTs and historical PLC operations tolerate high-S (as the reference verifier does), never DER.
    test(`the malleable-signature check says ${f.validSignature || f.tags.includes('high-s')} for: ${f.comment}`, () => {
      const msg = Buffer.from(f.messageBase64, 'base64');
      const sig = Buffer.from(f.signatureBase64, 'base64');
      assert.equal(verifySignatureAllowingHighS(f.publicKeyDid, msg, sig), f.validSignature || f.tags.includes('high-s'));
      assert.equal(verifySignatureSync(f.publicKeyDid, msg, sig), f.validSignature);
    });
  }
});

describe('parseDidDocument', () => {
  test('accepts a document from the live directory', () => {
    const doc = parseDidDocument({
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
      id: DID,
      alsoKnownAs: ['at://Alice.Example.com', 'https://alice.example.com'],
      verificationMethod: [
        { id: `${DID}#atproto`, type: 'Multikey', controller: DID, publicKeyMultibase: 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF' },
      ],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.example.com' }],
    });
    assert.deepEqual(extractAtprotoIdentity(doc), {
      did: DID,
      handle: 'alice.example.com',
      signingKey: 'did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF',
      pds: 'https://pds.example.com',
    });
  });

  test('reads the uncompressed legacy key of the DID spec example', () => {
    const doc = docWith({
      type: 'EcdsaSecp256k1VerificationKey2019',
      publicKeyMultibase: 'zQYEBzXeuTM9UR3rfvNag6L3RNAs5pQZyYPsomTsgQhsxLdEgCrPTLgFna8yqCnxPpNT7DBk6Ym3dgPKNu86vt9GR',
    });
    assert.equal(getAtprotoSigningKey(doc), 'did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF');
  });

  test('refuses a document for another DID than the one resolved', () => {
    assert.throws(() => parseDidDocument({ id: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' }, DID), InvalidDidDocumentError);
  });

  test('refuses malformed shapes', () => {
    const bad: unknown[] = [
      null,
      [],
      'did',
      { id: 'not a did' },
      { id: DID, alsoKnownAs: 'at://a.com' },
      { id: DID, alsoKnownAs: [1] },
      { id: DID, verificationMethod: {} },
      { id: DID, verificationMethod: [{ id: '#atproto', type: 'Multikey' }] },
      { id: DID, verificationMethod: [{ id: '#atproto', type: 'Multikey', controller: DID, publicKeyMultibase: 5 }] },
      { id: DID, service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 5 }] },
      { id: DID, service: [{ id: '#atproto_pds', serviceEndpoint: 'https://a.com' }] },
    ];
    for (const value of bad) assert.throws(() => parseDidDocument(value), InvalidDidDocumentError, JSON.stringify(value));
  });
});

describe('extracting atproto data', () => {
  const key = 'did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF';
  const multikey = key.slice('did:key:'.length);

  test('takes the first valid #atproto key, skipping broken ones, foreign controllers and other ids', () => {
    const doc = parseDidDocument({
      id: DID,
      verificationMethod: [
        { id: '#atproto_label', type: 'Multikey', controller: DID, publicKeyMultibase: 'zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo' },
        { id: '#atproto', type: 'Multikey', controller: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', publicKeyMultibase: 'zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo' },
        { id: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa#atproto', type: 'Multikey', controller: DID, publicKeyMultibase: 'zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo' },
        { id: '#atproto', type: 'Multikey', controller: DID, publicKeyMultibase: 'zNotAKey' },
        { id: '#atproto', type: 'JsonWebKey2020', controller: DID, publicKeyMultibase: multikey },
        { id: `${DID}#atproto`, type: 'Multikey', controller: DID, publicKeyMultibase: multikey },
      ],
    });
    assert.equal(getAtprotoSigningKey(doc), key);
    assert.equal(getVerificationKey(doc, 'atproto_label'), 'did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo');
    assert.equal(getVerificationKey(doc, 'nothing'), undefined);
  });

  test('takes the first #atproto_pds of the right type with a usable URL', () => {
    const doc = parseDidDocument({
      id: DID,
      service: [
        { id: '#atproto_pds', type: 'SomethingElse', serviceEndpoint: 'https://wrong-type.example.com' },
        { id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'ftp://pds.example.com' },
        { id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: { uri: 'https://object.example.com' } },
        { id: `${DID}#atproto_pds`, type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://PDS.example.com:8443/' },
        { id: '#bsky_appview', type: 'BskyAppView', serviceEndpoint: 'https://api.example.com' },
      ],
    });
    assert.equal(getPdsEndpoint(doc), 'https://pds.example.com:8443');
    assert.equal(getServiceEndpoint(doc, { id: 'bsky_appview' }), 'https://api.example.com');
    assert.equal(getServiceEndpoint(doc, { id: 'bsky_appview', type: 'Other' }), undefined);
  });

  test('normalizes service endpoints and refuses credentials, queries and fragments', () => {
    assert.equal(normalizeServiceEndpoint('https://pds.example.com'), 'https://pds.example.com');
    assert.equal(normalizeServiceEndpoint('https://pds.example.com:443/'), 'https://pds.example.com');
    assert.equal(normalizeServiceEndpoint('http://localhost:2583'), 'http://localhost:2583');
    assert.equal(normalizeServiceEndpoint('https://example.com/pds/'), 'https://example.com/pds');
    for (const bad of ['https://user:pw@pds.example.com', 'https://pds.example.com/?a=1', 'https://pds.example.com/#x', 'javascript:alert(1)', 'pds.example.com', '', 7]) {
      assert.equal(normalizeServiceEndpoint(bad), undefined, String(bad));
    }
  });

  test('takes the first syntactically valid at:// handle, lower-cased', () => {
    const doc = parseDidDocument({
      id: DID,
      alsoKnownAs: ['https://alice.example.com', 'at://not_a_handle', 'at://did:plc:xyz', 'at://Alice.Example.COM', 'at://bob.example.com'],
    });
    assert.equal(getHandle(doc), 'alice.example.com');
    assert.equal(getHandle(parseDidDocument({ id: DID })), undefined);
  });

  test('leaves out what is missing', () => {
    assert.deepEqual(extractAtprotoIdentity(parseDidDocument({ id: DID })), { did: DID });
  });
});
