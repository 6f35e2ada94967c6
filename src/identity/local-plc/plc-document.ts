// The DID document a PLC directory renders from a DID's state, in the current form: every
// verification method a `Multikey` with its full id, as the public directory serves them.
import { parseDidKey } from '../../crypto/index.ts';
import type { PlcData } from '../plc-types.ts';

export interface PlcDocument {
  '@context': string[];
  id: string;
  alsoKnownAs: string[];
  verificationMethod: Array<{ id: string; type: 'Multikey'; controller: string; publicKeyMultibase: string }>;
  service: Array<{ id: string; type: string; serviceEndpoint: string }>;
}

const SUITE_CONTEXT: Record<string, string> = {
  ES256K: 'https://w3id.org/security/suites/secp256k1-2019/v1',
  ES256: 'https://w3id.org/security/suites/ecdsa-2019/v1',
};

export function formatPlcDocument(data: PlcData): PlcDocument {
  const context = ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'];
  const verificationMethod = Object.entries(data.verificationMethods).map(([name, key]) => {
    const suite = suiteContext(key);
    if (suite && !context.includes(suite)) context.push(suite);
    return { id: `${data.did}#${name}`, type: 'Multikey' as const, controller: data.did, publicKeyMultibase: key.slice('did:key:'.length) };
  });
  const service = Object.entries(data.services).map(([name, s]) => ({ id: `#${name}`, type: s.type, serviceEndpoint: s.endpoint }));
  return { '@context': context, id: data.did, alsoKnownAs: data.alsoKnownAs, verificationMethod, service };
}

function suiteContext(didKey: string): string | undefined {
  try {
    return SUITE_CONTEXT[parseDidKey(didKey).alg];
  } catch {
    return undefined; // a key type atproto does not use: listed, without a suite context
  }
}
