// Public JWKs: checked, turned into node:crypto keys once (a DPoP key signs every request of a
// session, so its import is remembered), and named by their RFC 7638 thumbprint.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { JoseError } from './errors.ts';

export interface PublicJwk {
  readonly kty: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly use?: string;
  readonly key_ops?: readonly string[];
  readonly [member: string]: unknown;
}

export interface ImportedKey {
  readonly jwk: PublicJwk;
  readonly key: KeyObject;
  /** base64url SHA-256 of the key's required members (RFC 7638): the `jkt` tokens are bound to. */
  readonly thumbprint: string;
}

// Members only a private or symmetric key has: a JWK carrying any of them is refused outright.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_JWK_JSON = 4096;
const CACHE_SIZE = 10_000;

const imported = new Map<string, ImportedKey>();

/**
 * Imports a public JWK (EC, OKP or RSA). The same key seen again is served from a bounded cache
 * keyed by its exact JSON, so each session's DPoP key is parsed and thumbprinted once.
 */
export function importPublicJwk(value: unknown): ImportedKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JoseError('the jwk must be a JSON object');
  const cacheKey = JSON.stringify(value);
  const hit = imported.get(cacheKey);
  if (hit !== undefined) return hit;
  if (cacheKey.length > MAX_JWK_JSON) throw new JoseError('the jwk is too large');
  const jwk = value as PublicJwk;
  for (const member of PRIVATE_MEMBERS) {
    if (member in jwk) throw new JoseError('the jwk must be a public key (it has private members)');
  }
  const thumbprint = jwkThumbprint(jwk);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw new JoseError('the jwk is not a valid public key');
  }
  const entry: ImportedKey = Object.freeze({ jwk: Object.freeze({ ...jwk }), key, thumbprint });
  if (imported.size >= CACHE_SIZE) imported.delete(imported.keys().next().value!);
  imported.set(cacheKey, entry);
  return entry;
}

/** RFC 7638: SHA-256 over the required members, in lexicographic order, without whitespace. */
export function jwkThumbprint(jwk: PublicJwk): string {
  let required: Record<string, unknown>;
  switch (jwk.kty) {
    case 'EC':
      required = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
      break;
    case 'OKP':
      required = { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
      break;
    case 'RSA':
      required = { e: jwk.e, kty: jwk.kty, n: jwk.n };
      break;
    default:
      throw new JoseError(`unsupported key type "${String(jwk.kty).slice(0, 16)}"`);
  }
  for (const [name, member] of Object.entries(required)) {
    if (typeof member !== 'string' || member === '') throw new JoseError(`the jwk has no "${name}"`);
  }
  return createHash('sha256').update(JSON.stringify(required)).digest('base64url');
}
