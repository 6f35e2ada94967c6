// Compact JWS verification on node:crypto. OAuth here verifies three kinds of JWT signed by
// others: DPoP proofs (one per request), client assertions, and keys in client metadata. The
// algorithms are a fixed table; a header must name one of them, and the key must be of the type
// that algorithm uses, so no token can pick how it is checked (no `none`, no HMAC with a public
// key, no `crit` extensions we do not understand).
import { constants, verify, type KeyObject } from 'node:crypto';
import { JoseError } from './errors.ts';
import type { ImportedKey } from './jwk.ts';

interface AlgSpec {
  readonly kty: 'EC' | 'OKP' | 'RSA';
  readonly crv?: readonly string[];
  /** null for EdDSA, which hashes internally. */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  readonly pss?: boolean;
  /** ECDSA: the raw (r || s) signature length. */
  readonly ecSignatureBytes?: number;
}

const ALGS: Readonly<Record<string, AlgSpec>> = {
  ES256: { kty: 'EC', crv: ['P-256'], hash: 'sha256', ecSignatureBytes: 64 },
  ES384: { kty: 'EC', crv: ['P-384'], hash: 'sha384', ecSignatureBytes: 96 },
  ES512: { kty: 'EC', crv: ['P-521'], hash: 'sha512', ecSignatureBytes: 132 },
  EdDSA: { kty: 'OKP', crv: ['Ed25519', 'Ed448'], hash: null },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
};

/** Signature algorithms accepted for DPoP proofs and client assertions (ES256 first: the one atproto requires). */
export const SUPPORTED_JWS_ALGS: readonly string[] = Object.keys(ALGS);

const MIN_RSA_BITS = 2048;

export interface ParsedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** The three parts of a compact JWS, still encoded (but the signature). Verifies nothing. */
export interface SplitJws {
  readonly headerPart: string;
  readonly payloadPart: string;
  readonly signingInput: string;
  readonly signature: Buffer;
}

export function splitCompactJws(token: string, maxLength: number): SplitJws {
  if (typeof token !== 'string' || token.length > maxLength) throw new JoseError('the jwt is missing or too long');
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) throw new JoseError('the jwt is not a compact JWS');
  const signature = Buffer.from(token.slice(second + 1), 'base64url');
  if (signature.length === 0) throw new JoseError('the jwt has no signature');
  return { headerPart: token.slice(0, first), payloadPart: token.slice(first + 1, second), signingInput: token.slice(0, second), signature };
}

/** Splits and decodes a compact JWS whose header and payload are JSON objects. Verifies nothing. */
export function parseCompactJws(token: string, maxLength: number): ParsedJws {
  const split = splitCompactJws(token, maxLength);
  const header = decodeJsonPart(split.headerPart, 'header');
  const payload = decodeJsonPart(split.payloadPart, 'payload');
  return { header, payload, signingInput: split.signingInput, signature: split.signature };
}

/**
 * Checks the header's `alg` against the key and the allowed list, then the signature. Throws a
 * JoseError naming what was wrong.
 */
export function verifyJwsSignature(jws: ParsedJws, key: ImportedKey, allowed: readonly string[] = SUPPORTED_JWS_ALGS): void {
  const alg = jws.header.alg;
  if (typeof alg !== 'string' || !allowed.includes(alg) || !(alg in ALGS)) {
    throw new JoseError(`unsupported jwt alg "${String(alg).slice(0, 16)}" (supported: ${allowed.join(', ')})`);
  }
  if (jws.header.crit !== undefined) throw new JoseError('the jwt has critical header extensions this server does not support');
  const spec = ALGS[alg];
  checkKeyFits(alg, spec, key);
  if (!verifySignature(spec, key.key, jws.signingInput, jws.signature)) throw new JoseError('the jwt signature does not verify');
}

function checkKeyFits(alg: string, spec: AlgSpec, key: ImportedKey): void {
  const { jwk } = key;
  if (jwk.kty !== spec.kty || (spec.crv !== undefined && !spec.crv.includes(String(jwk.crv)))) {
    throw new JoseError(`the key (${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}) cannot verify ${alg}`);
  }
  if (jwk.alg !== undefined && jwk.alg !== alg) throw new JoseError(`the key is for ${String(jwk.alg).slice(0, 16)}, not ${alg}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new JoseError('the key is not a signing key ("use" is not "sig")');
  if (spec.kty === 'RSA' && (key.key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new JoseError(`RSA keys must have at least ${MIN_RSA_BITS} bits`);
  }
}

function verifySignature(spec: AlgSpec, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  const data = Buffer.from(signingInput, 'latin1');
  try {
    if (spec.kty === 'EC') {
      if (signature.length !== spec.ecSignatureBytes) return false;
      return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    if (spec.kty === 'OKP') return verify(null, data, key, signature);
    if (spec.pss) {
      return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
    }
    return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
}

/** A base64url JSON object (a JWS header or payload); `name` is for the error message. */
export function decodeJsonPart(part: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JoseError(`the jwt ${name} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JoseError(`the jwt ${name} is not a JSON object`);
  return value as Record<string, unknown>;
}
