// DID documents, method-agnostic: shape checks, and the three things atproto reads out of one
// (the #atproto signing key, the #atproto_pds endpoint, the at:// handle). Each extraction takes the
// first *valid* entry and ignores the rest, as the DID spec asks; fragments are matched in both the
// relative (`#atproto`) and the fully qualified (`did:…#atproto`) spelling.
import { didKeyFromVerificationMethod } from '../crypto/index.ts';
import { isValidDid, isValidHandle } from '../syntax/index.ts';
import { InvalidDidDocumentError } from './errors.ts';

export interface VerificationMethod {
  id: string;
  type: string;
  controller: string;
  publicKeyMultibase?: string;
}

export interface DidService {
  id: string;
  type: string;
  serviceEndpoint: string | Record<string, unknown>;
}

export interface DidDocument {
  '@context'?: unknown;
  id: string;
  alsoKnownAs?: string[];
  verificationMethod?: VerificationMethod[];
  service?: DidService[];
}

/** What atproto needs from a DID document; absent fields were missing or invalid. */
export interface AtprotoIdentity {
  did: string;
  /** Lower-cased handle claimed by the document (not yet verified bidirectionally). */
  handle?: string;
  /** `did:key:…` of the #atproto verification method. */
  signingKey?: string;
  /** Origin (plus any path, without trailing slash) of the #atproto_pds service. */
  pds?: string;
}

export const ATPROTO_KEY_ID = 'atproto';
export const ATPROTO_PDS_SERVICE = { id: 'atproto_pds', type: 'AtprotoPersonalDataServer' } as const;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

/**
 * Checks the shape of a DID document and, when `expectedDid` is given, that it is that DID's own
 * document (a server could otherwise answer for one DID with another's keys). Throws
 * `InvalidDidDocumentError`.
 */
export function parseDidDocument(value: unknown, expectedDid?: string): DidDocument {
  if (!isObject(value)) throw new InvalidDidDocumentError('DID document must be a JSON object');
  const { id, alsoKnownAs, verificationMethod, service } = value;
  if (typeof id !== 'string' || !isValidDid(id)) throw new InvalidDidDocumentError('DID document id must be a valid DID');
  if (expectedDid !== undefined && id !== expectedDid) {
    throw new InvalidDidDocumentError(`DID document is for ${id.slice(0, 100)}, not ${expectedDid}`);
  }
  if (alsoKnownAs !== undefined && !isStringArray(alsoKnownAs)) {
    throw new InvalidDidDocumentError('alsoKnownAs must be an array of strings');
  }
  if (verificationMethod !== undefined) {
    if (!Array.isArray(verificationMethod)) throw new InvalidDidDocumentError('verificationMethod must be an array');
    for (const method of verificationMethod) {
      if (!isObject(method) || typeof method.id !== 'string' || typeof method.type !== 'string' || typeof method.controller !== 'string') {
        throw new InvalidDidDocumentError('each verificationMethod needs string id, type and controller');
      }
      if (method.publicKeyMultibase !== undefined && typeof method.publicKeyMultibase !== 'string') {
        throw new InvalidDidDocumentError('publicKeyMultibase must be a string');
      }
    }
  }
  if (service !== undefined) {
    if (!Array.isArray(service)) throw new InvalidDidDocumentError('service must be an array');
    for (const entry of service) {
      if (!isObject(entry) || typeof entry.id !== 'string' || typeof entry.type !== 'string') {
        throw new InvalidDidDocumentError('each service needs string id and type');
      }
      if (typeof entry.serviceEndpoint !== 'string' && !isObject(entry.serviceEndpoint)) {
        throw new InvalidDidDocumentError('serviceEndpoint must be a string or an object');
      }
    }
  }
  return value as unknown as DidDocument;
}

function hasFragment(entryId: string, did: string, fragment: string): boolean {
  // Compare lengths first: this runs for every entry of every resolved document.
  if (entryId.length === fragment.length + 1) return entryId === `#${fragment}`;
  return entryId.length === did.length + fragment.length + 1 && entryId.startsWith(did) && entryId.endsWith(`#${fragment}`);
}

/**
 * The did:key of the first valid verification method with the given fragment (default `atproto`)
 * whose controller is the document's own DID, in Multikey or the legacy
 * `EcdsaSecp256k1VerificationKey2019` / `EcdsaSecp256r1VerificationKey2019` form.
 */
export function getVerificationKey(doc: DidDocument, fragment: string = ATPROTO_KEY_ID): string | undefined {
  for (const method of doc.verificationMethod ?? []) {
    if (!hasFragment(method.id, doc.id, fragment) || method.controller !== doc.id) continue;
    try {
      return didKeyFromVerificationMethod(method);
    } catch {
      // Malformed or unsupported key: the spec says to use the first *valid* one.
    }
  }
  return undefined;
}

/** The account's atproto signing key as `did:key:…`. */
export function getAtprotoSigningKey(doc: DidDocument): string | undefined {
  return getVerificationKey(doc, ATPROTO_KEY_ID);
}

/**
 * The endpoint of the first service with the given fragment (and type, when given) whose endpoint
 * is a usable http(s) URL: no credentials, query or fragment. Returned without trailing slash.
 */
export function getServiceEndpoint(doc: DidDocument, opts: { id: string; type?: string }): string | undefined {
  for (const entry of doc.service ?? []) {
    if (!hasFragment(entry.id, doc.id, opts.id)) continue;
    if (opts.type !== undefined && entry.type !== opts.type) continue;
    const endpoint = normalizeServiceEndpoint(entry.serviceEndpoint);
    if (endpoint !== undefined) return endpoint;
  }
  return undefined;
}

/** The account's PDS base URL (`#atproto_pds`, type `AtprotoPersonalDataServer`). */
export function getPdsEndpoint(doc: DidDocument): string | undefined {
  return getServiceEndpoint(doc, ATPROTO_PDS_SERVICE);
}

/** The first syntactically valid `at://<handle>` in alsoKnownAs, lower-cased. */
export function getHandle(doc: DidDocument): string | undefined {
  for (const aka of doc.alsoKnownAs ?? []) {
    if (!aka.startsWith('at://')) continue;
    const handle = aka.slice(5);
    if (isValidHandle(handle)) return handle.toLowerCase();
  }
  return undefined;
}

export function extractAtprotoIdentity(doc: DidDocument): AtprotoIdentity {
  const identity: AtprotoIdentity = { did: doc.id };
  const handle = getHandle(doc);
  const signingKey = getAtprotoSigningKey(doc);
  const pds = getPdsEndpoint(doc);
  if (handle !== undefined) identity.handle = handle;
  if (signingKey !== undefined) identity.signingKey = signingKey;
  if (pds !== undefined) identity.pds = pds;
  return identity;
}

/** An http(s) URL reduced to origin + path without trailing slash, or undefined. */
export function normalizeServiceEndpoint(endpoint: unknown): string | undefined {
  if (typeof endpoint !== 'string' || endpoint.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.hostname === '' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  return url.origin + url.pathname.replace(/\/+$/, '');
}
