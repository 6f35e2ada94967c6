// DPoP proof checks (RFC 9449 §4.3), for the token endpoints and for every resource request: one
// `DPoP` header holding a `dpop+jwt` signed by the public key in its own header, for this method
// and this URL (`htm`, `htu`, compared with the public URL the operator configured, never with
// the Host header), recent (`iat`), carrying a nonce this server issued, bound to the access
// token when one is presented (`ath`), and never seen before (`jti`).
import { createHash } from 'node:crypto';
import { JoseError } from '../jose/errors.ts';
import { importPublicJwk, type ImportedKey } from '../jose/jwk.ts';
import { decodeJsonPart, splitCompactJws, SUPPORTED_JWS_ALGS, verifyJwsSignature, type ParsedJws } from '../jose/jws.ts';
import type { ReplayStore } from '../replay.ts';
import type { DpopNonces } from './nonces.ts';

export interface DpopProof {
  /** Thumbprint of the proof's key: what tokens are bound to (`cnf.jkt`). */
  readonly jkt: string;
  readonly jti: string;
}

/** Why a proof was refused: `use_dpop_nonce` asks the client to retry with the nonce it was sent. */
export class DpopError extends Error {
  override name = 'DpopError';
  constructor(
    readonly code: 'invalid_dpop_proof' | 'use_dpop_nonce',
    message: string,
  ) {
    super(message);
  }
}

export interface DpopExpectation {
  /** The request's method. */
  htm: string;
  /** The request's URL on the public origin, without query or fragment. */
  htu: string;
  /** The access token the request presents, if any: the proof must carry its hash (`ath`). */
  accessToken?: string;
}

export const DPOP_ALGS = SUPPORTED_JWS_ALGS;
const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
// `iat` may be this far off the server's clock either way; freshness comes from the nonce.
const IAT_SKEW_S = 300;
// One entry per DPoP key in use (a header is about 250 bytes of text, its decoded form and key
// about 1 KB): 4,096 entries, a few MB at most, like the verified access tokens' cache.
const HEADER_CACHE_SIZE = 4096;

interface KnownHeader {
  readonly header: Readonly<Record<string, unknown>>;
  readonly key: ImportedKey;
}

export class DpopVerifier {
  /** Proof headers seen in a verified proof, by their exact base64url text (bounded, oldest out first). */
  readonly #headers = new Map<string, KnownHeader>();

  constructor(
    private readonly nonces: DpopNonces,
    private readonly replay: ReplayStore,
    private readonly now: () => number = Date.now,
  ) {}

  #remember(headerPart: string, known: KnownHeader): void {
    if (this.#headers.size >= HEADER_CACHE_SIZE) this.#headers.delete(this.#headers.keys().next().value!);
    this.#headers.set(headerPart, known);
  }

  /** Verifies the request's proof, or returns undefined when it carries none. */
  async verify(header: string | string[] | undefined, expect: DpopExpectation): Promise<DpopProof | undefined> {
    if (header === undefined) return undefined;
    if (Array.isArray(header)) throw new DpopError('invalid_dpop_proof', 'send exactly one DPoP header');
    let jws: ParsedJws;
    let key: ImportedKey;
    try {
      const split = splitCompactJws(header, MAX_PROOF_LENGTH);
      // A client sends the same header (its key, alg, typ) with every proof: decoded and imported
      // once, then found by its exact text. Only headers whose proof verified are remembered.
      const known = this.#headers.get(split.headerPart);
      const decoded = known ?? { header: decodeJsonPart(split.headerPart, 'header'), key: undefined };
      if (decoded.header.typ !== 'dpop+jwt') throw new DpopError('invalid_dpop_proof', 'DPoP proof: the "typ" header must be "dpop+jwt"');
      key = known?.key ?? importPublicJwk(decoded.header.jwk);
      jws = { header: decoded.header, payload: decodeJsonPart(split.payloadPart, 'payload'), signingInput: split.signingInput, signature: split.signature };
      // The signature, every time: each proof is new.
      verifyJwsSignature(jws, key, DPOP_ALGS);
      if (known === undefined) this.#remember(split.headerPart, { header: decoded.header, key });
    } catch (err) {
      if (err instanceof JoseError) throw new DpopError('invalid_dpop_proof', `DPoP proof: ${err.message}`);
      throw err;
    }
    const jkt = key.thumbprint;
    const { jti, htm, htu, iat, nonce, ath } = jws.payload;
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw new DpopError('invalid_dpop_proof', 'DPoP proof: "jti" must be a short string');
    if (htm !== expect.htm) throw new DpopError('invalid_dpop_proof', `DPoP proof: "htm" must be ${expect.htm}`);
    // expect.htu is normalized: the same text needs no parsing.
    if (typeof htu !== 'string' || (htu !== expect.htu && normalizeHtu(htu) !== expect.htu)) throw new DpopError('invalid_dpop_proof', `DPoP proof: "htu" must be ${expect.htu}`);
    const nowS = this.now() / 1000;
    if (typeof iat !== 'number' || !Number.isFinite(iat) || Math.abs(nowS - iat) > IAT_SKEW_S) {
      throw new DpopError('invalid_dpop_proof', 'DPoP proof: "iat" is missing or too far from the server clock');
    }
    if (expect.accessToken !== undefined) {
      if (typeof ath !== 'string' || ath !== accessTokenHash(expect.accessToken)) {
        throw new DpopError('invalid_dpop_proof', 'DPoP proof: "ath" must be the hash of the access token');
      }
    } else if (ath !== undefined) {
      throw new DpopError('invalid_dpop_proof', 'DPoP proof: "ath" is only for requests that present an access token');
    }
    if (typeof nonce !== 'string' || this.nonces.stepOf(nonce) === undefined) {
      throw new DpopError('use_dpop_nonce', nonce === undefined ? 'Authorization server requires nonce in DPoP proof' : 'DPoP nonce is stale or unknown: use the one just sent');
    }
    if (!(await this.replay.unique('dpop', `${jkt.slice(0, 22)}:${jti}`, 3 * this.nonces.stepMs, jkt))) {
      throw new DpopError('invalid_dpop_proof', 'DPoP proof was already used ("jti" replayed)');
    }
    return { jkt, jti };
  }
}

/** The URL as `htu` compares it: origin and path, no query or fragment (RFC 9449 §4.3). */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return `${url.origin}${url.pathname}`;
}

/** base64url SHA-256 of an access token: the proof's `ath` claim. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
