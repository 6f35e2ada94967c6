/**
 * The DID document an account of this PDS has, built from what the PDS itself knows (the PLC
 * directory holds the same data because this PDS wrote it): used for session answers without
 * a network round trip.
 */
export function localDidDocument(input: { did: string; handle: string; signingKeyDid: string; pdsUrl: string }) {
  const multibase = input.signingKeyDid.replace(/^did:key:/, '');
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1', 'https://w3id.org/security/suites/secp256k1-2019/v1'],
    id: input.did,
    alsoKnownAs: [`at://${input.handle}`],
    verificationMethod: [
      {
        id: `${input.did}#atproto`,
        type: 'Multikey',
        controller: input.did,
        publicKeyMultibase: multibase,
      },
    ],
    service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: input.pdsUrl }],
  };
}
