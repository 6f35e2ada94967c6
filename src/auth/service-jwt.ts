// Inter-service auth tokens (xrpc spec, "Inter-Service Authentication"): short-lived JWTs that an
// account's PDS signs with the account's atproto signing key, and that the receiver checks
// against the key in the issuer's DID document. Minting follows the official PDS's limits;
// verifying refuses what the official verifier refuses, and re-resolves the issuer's document
// once when the signature does not match, so a freshly rotated key is picked up.
import { randomBytes } from 'node:crypto';
import { parseDidKey, type Keypair } from '../crypto/index.ts';
import { decodeBase64Url, verifySignatureAllowingHighS } from '../identity/signature.ts';
import { isValidDid, isValidNsid } from '../syntax/index.ts';
import type { ServiceJwtReplayGuard } from './service-jwt-replay.ts';

export const SERVICE_JWT_DEFAULT_TTL_S = 60;
/** The official PDS hands out tokens valid for at most an hour, and a minute without `lxm`. */
export const SERVICE_JWT_MAX_TTL_S = 60 * 60;
export const SERVICE_JWT_METHODLESS_MAX_TTL_S = 60;
/** Tolerated clock difference when checking `exp` and `iat`. */
export const SERVICE_JWT_CLOCK_SKEW_S = 5;
/**
 * The longest lifetime a token may have when it reaches us, as the most any official PDS mints
 * (`getServiceAuth` allows an hour with a method; the video service asks for 30 minutes).
 */
export const SERVICE_JWT_MAX_LIFETIME_S = SERVICE_JWT_MAX_TTL_S;

/** The refusals, named as the official verifier names them (each a 401). */
export const SERVICE_JWT_FAILURES = [
  'BadJwt',
  'BadJwtType',
  'JwtExpired',
  'BadJwtAudience',
  'BadJwtLexiconMethod',
  'BadJwtIss',
  'BadJwtSignature',
] as const;
export type ServiceJwtFailure = (typeof SERVICE_JWT_FAILURES)[number];

/** Why a service token was refused; `reason` is the XRPC error name the API layer should answer with. */
export class ServiceJwtError extends Error {
  override name = 'ServiceJwtError';

  constructor(
    readonly reason: ServiceJwtFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
export class BadJwtError extends ServiceJwtError {
  constructor(message: string, reason: 'BadJwt' | 'BadJwtType' = 'BadJwt') {
    super(reason, message);
  }
}
export class BadJwtIssError extends ServiceJwtError {
  constructor() {
    super('BadJwtIss', 'jwt iss is not a valid did');
  }
}
export class JwtExpiredError extends ServiceJwtError {
  constructor() {
    super('JwtExpired', 'jwt expired');
  }
}
export class BadJwtAudienceError extends ServiceJwtError {
  constructor() {
    super('BadJwtAudience', 'jwt audience does not match service did');
  }
}
export class BadJwtLexiconMethodError extends ServiceJwtError {
  constructor(message: string) {
    super('BadJwtLexiconMethod', message);
  }
}
export class BadJwtSignatureError extends ServiceJwtError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BadJwtSignature', message, options);
  }
}

/**
 * Too many unexpired tokens to remember (see `ServiceJwtReplayGuard`): not the token's fault, so
 * not a 401. `scope` says whose share is spent: the issuer's (429) or the whole table's (503).
 */
export class ServiceJwtBusyError extends Error {
  override name = 'ServiceJwtBusyError';

  constructor(
    readonly scope: 'issuer' | 'server',
    message: string,
  ) {
    super(message);
  }
}

/** A request for a token the minting rules do not allow (maps to `BadExpiration` / `InvalidRequest`). */
export class ServiceJwtParamsError extends Error {
  override name = 'ServiceJwtParamsError';

  constructor(
    readonly reason: 'BadExpiration' | 'InvalidRequest',
    message: string,
  ) {
    super(message);
  }
}

export interface ServiceJwtPayload {
  iss: string;
  aud: string;
  exp: number;
  iat?: number;
  lxm?: string;
  jti?: string;
}

export interface CreateServiceJwtParams {
  /** The account DID (a legacy `did#service` form is passed through). */
  iss: string;
  /** The receiving service: `did` or, preferably, `did#service_id`. */
  aud: string;
  /** NSID of the one method the token authorises. */
  lxm?: string | null;
  /** Expiry, seconds since the epoch; default `iat` + 60 s. */
  exp?: number;
  iat?: number;
  /** Verification method of the signing key, e.g. `#atproto_label`; left out for `#atproto`. */
  kid?: string;
  keypair: Pick<Keypair, 'alg' | 'sign'>;
  now?: () => number;
}

const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const splitFragment = (did: string): [string, string | undefined] => {
  const hash = did.indexOf('#');
  return hash === -1 ? [did, undefined] : [did.slice(0, hash), did.slice(hash + 1)];
};
const isDidWithOptionalFragment = (value: string) => {
  const [did, fragment] = splitFragment(value);
  return isValidDid(did) && (fragment === undefined || /^[a-zA-Z0-9._~-]{1,64}$/.test(fragment));
};

/** Mints a service-auth JWT signed with the account's key. Throws `ServiceJwtParamsError`. */
export async function createServiceJwt(params: CreateServiceJwtParams): Promise<string> {
  const { iss, aud, keypair } = params;
  const lxm = params.lxm ?? undefined;
  if (!isDidWithOptionalFragment(iss)) throw new ServiceJwtParamsError('InvalidRequest', 'iss must be a DID');
  if (!isDidWithOptionalFragment(aud)) throw new ServiceJwtParamsError('InvalidRequest', 'aud must be a DID, optionally with a #service fragment');
  if (lxm !== undefined && !isValidNsid(lxm)) throw new ServiceJwtParamsError('InvalidRequest', 'lxm must be an NSID');
  const nowS = Math.floor((params.now ?? Date.now)() / 1000);
  const iat = params.iat ?? nowS;
  const exp = params.exp ?? iat + SERVICE_JWT_DEFAULT_TTL_S;
  if (!Number.isSafeInteger(exp) || !Number.isSafeInteger(iat)) throw new ServiceJwtParamsError('BadExpiration', 'exp and iat are whole seconds');
  if (exp <= nowS) throw new ServiceJwtParamsError('BadExpiration', 'expiration is in past');
  if (exp - nowS > SERVICE_JWT_MAX_TTL_S) {
    throw new ServiceJwtParamsError('BadExpiration', 'cannot request a token with an expiration more than an hour in the future');
  }
  if (lxm === undefined && exp - nowS > SERVICE_JWT_METHODLESS_MAX_TTL_S) {
    throw new ServiceJwtParamsError('BadExpiration', 'cannot request a method-less token with an expiration more than a minute in the future');
  }
  const header: Record<string, string> = { typ: 'JWT', alg: keypair.alg };
  if (params.kid !== undefined && params.kid !== '#atproto') header.kid = params.kid;
  const payload: ServiceJwtPayload = { iat, iss, aud, exp };
  if (lxm !== undefined) payload.lxm = lxm;
  payload.jti = randomBytes(16).toString('hex');
  const signingInput = `${encodeJson(header)}.${encodeJson(payload)}`;
  const sig = await keypair.sign(Buffer.from(signingInput, 'utf8'));
  return `${signingInput}.${Buffer.from(sig).toString('base64url')}`;
}

/** Looks up the issuer's key (a did:key); `forceRefresh` bypasses any cache. */
export type SigningKeyResolver = (did: string, opts: { forceRefresh: boolean; keyId: string }) => Promise<string>;

export interface VerifyServiceJwtOptions {
  /** Accepted `aud` values (this service's DID, `did#service`). `null` skips the check. */
  audience: string | readonly string[] | null;
  /** The method being called: `lxm` must equal it. `null` skips the check. */
  lxm: string | null;
  resolveKey: SigningKeyResolver;
  /** Verification methods accepted as signers (no `#`). Default `['atproto']`. */
  keyIds?: readonly string[];
  clockSkewS?: number;
  /** Longest accepted lifetime, from `iat` (or now) to `exp`. Default `SERVICE_JWT_MAX_LIFETIME_S`. */
  maxLifetimeS?: number;
  now?: () => number;
  /** When given, a token already accepted once is refused (by `jti`, or by content without one). */
  replayGuard?: ServiceJwtReplayGuard;
}

export interface VerifiedServiceJwt {
  payload: ServiceJwtPayload;
  /** `iss` without any fragment: the account the request is made for. */
  did: string;
  /** The verification method that signed it (no `#`). */
  keyId: string;
}

// Tokens of other kinds that must never pass as service auth (as the official verifier refuses).
const FORBIDDEN_TYPES = new Set(['at+jwt', 'refresh+jwt', 'dpop+jwt']);

/**
 * Verifies a service-auth JWT: structure, `typ`, `alg`, expiry and lifetime (with a little clock
 * skew), audience, lexicon method, then the signature against the issuer's key, re-resolving once
 * with the cache bypassed when it does not match, and last its single use. Throws a
 * `ServiceJwtError` subclass (or `ServiceJwtBusyError` when the replay guard is full).
 */
export async function verifyServiceJwt(token: string, opts: VerifyServiceJwtOptions): Promise<VerifiedServiceJwt> {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) throw new BadJwtError('poorly formatted jwt');
  const header = decodeJsonPart(parts[0]);
  const payload = decodeJsonPart(parts[1]);
  const sig = decodeBase64Url(parts[2]);
  if (sig === undefined) throw new BadJwtError('poorly formatted jwt signature');

  if (typeof header.typ === 'string' && FORBIDDEN_TYPES.has(header.typ.toLowerCase())) {
    throw new BadJwtError(`invalid jwt type "${header.typ}"`, 'BadJwtType');
  }
  const alg = header.alg;
  if (alg !== 'ES256K' && alg !== 'ES256') throw new BadJwtError('unsupported jwt alg');
  const claims = checkPayload(payload);

  const nowS = (opts.now ?? Date.now)() / 1000;
  const skewS = opts.clockSkewS ?? SERVICE_JWT_CLOCK_SKEW_S;
  if (nowS > claims.exp + skewS) throw new JwtExpiredError();
  checkLifetime(claims, nowS, skewS, opts.maxLifetimeS ?? SERVICE_JWT_MAX_LIFETIME_S);
  if (opts.audience !== null) {
    const accepted = typeof opts.audience === 'string' ? claims.aud === opts.audience : opts.audience.includes(claims.aud);
    if (!accepted) throw new BadJwtAudienceError();
  }
  if (opts.lxm !== null && claims.lxm !== opts.lxm) {
    throw new BadJwtLexiconMethodError(
      claims.lxm === undefined ? `missing jwt lexicon method ("lxm"). must match: ${opts.lxm}` : `bad jwt lexicon method ("lxm"). must match: ${opts.lxm}`,
    );
  }

  const [did, issFragment] = splitFragment(claims.iss);
  const keyId = signingKeyId(header.kid, issFragment);
  if (!(opts.keyIds ?? ['atproto']).includes(keyId)) throw new BadJwtError(`jwt signed with a key (#${keyId}) this service does not accept`);

  const msg = Buffer.from(`${parts[0]}.${parts[1]}`, 'utf8');
  const verifyWith = (key: string): boolean => {
    try {
      return parseDidKey(key).alg === alg && verifySignatureAllowingHighS(key, msg, sig);
    } catch {
      return false;
    }
  };
  const resolve = async (forceRefresh: boolean): Promise<string> => {
    try {
      return await opts.resolveKey(did, { forceRefresh, keyId });
    } catch (err) {
      throw new BadJwtSignatureError(`could not resolve the jwt issuer's signing key: ${(err as Error).message}`, { cause: err });
    }
  };
  const key = await resolve(false);
  if (!verifyWith(key)) {
    // The key may have been rotated since the document was cached: look once more, uncached.
    const fresh = await resolve(true);
    if (fresh === key || !verifyWith(fresh)) throw new BadJwtSignatureError('jwt signature does not match jwt issuer');
  }
  if (opts.replayGuard !== undefined) {
    // Without a jti, the signed content is the nonce (not the signature: an ECDSA signature has a
    // second valid spelling, high S, that anyone can compute).
    const nonce = claims.jti === undefined ? `token ${parts[0]}.${parts[1]}` : `jti ${claims.jti}`;
    const verdict = opts.replayGuard.checkAndRemember(claims.iss, nonce, claims.exp);
    if (verdict === 'replayed') throw new BadJwtError('jwt has already been used');
    if (verdict === 'issuer-full') throw new ServiceJwtBusyError('issuer', 'too many unexpired service tokens from this issuer; try again later');
    if (verdict === 'full') throw new ServiceJwtBusyError('server', 'too many unexpired service tokens in flight; try again later');
  }
  return { payload: claims, did, keyId };
}

/**
 * A token may not be issued in the future, nor live longer than `maxLifetimeS` from its `iat`
 * (or, without one, from now): a leaked long-lived token would otherwise be a lasting credential,
 * and the replay guard would have to remember it for as long.
 */
function checkLifetime(claims: ServiceJwtPayload, nowS: number, skewS: number, maxLifetimeS: number): void {
  if (claims.iat !== undefined) {
    if (claims.iat > nowS + skewS) throw new BadJwtError('jwt was issued in the future (iat)');
    if (claims.exp - claims.iat > maxLifetimeS) throw new BadJwtError(`jwt lifetime is longer than the ${maxLifetimeS} s allowed`);
  }
  if (claims.exp - nowS > maxLifetimeS + skewS) throw new BadJwtError(`jwt expires more than ${maxLifetimeS} s from now`);
}

function decodeJsonPart(part: string): Record<string, unknown> {
  const bytes = decodeBase64Url(part);
  if (bytes === undefined) throw new BadJwtError('poorly formatted jwt');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new BadJwtError('poorly formatted jwt');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadJwtError('poorly formatted jwt');
  return value as Record<string, unknown>;
}

function checkPayload(p: Record<string, unknown>): ServiceJwtPayload {
  const { iss, aud, exp, iat, lxm, jti } = p;
  if (typeof iss !== 'string' || !isDidWithOptionalFragment(iss)) throw new BadJwtIssError();
  if (typeof aud !== 'string') throw new BadJwtError('jwt aud must be a string');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new BadJwtError('jwt exp must be a number');
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) throw new BadJwtError('jwt iat must be a number');
  if (lxm !== undefined && typeof lxm !== 'string') throw new BadJwtError('jwt lxm must be a string');
  if (jti !== undefined && typeof jti !== 'string') throw new BadJwtError('jwt jti must be a string');
  return p as unknown as ServiceJwtPayload;
}

/**
 * The verification method that signed: the `kid` header (`#name`), else the key a legacy
 * `iss` fragment implies (`#atproto_labeler` services sign with `#atproto_label`), else `atproto`.
 */
function signingKeyId(kid: unknown, issFragment: string | undefined): string {
  if (kid !== undefined) {
    if (typeof kid !== 'string' || !/^#[a-zA-Z0-9._~-]{1,64}$/.test(kid)) throw new BadJwtError('jwt kid must be a #fragment');
    return kid.slice(1);
  }
  return issFragment === 'atproto_labeler' ? 'atproto_label' : 'atproto';
}
