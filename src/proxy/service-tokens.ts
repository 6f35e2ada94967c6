// Service-auth tokens for forwarded requests: minted for the account (iss), the service (aud, the
// bare DID, as the official PDS sends it) and the one method called (lxm), signed with the
// account's repo signing key. A secp256k1 signature costs more than the rest of a forwarded
// request, so a token is kept and reused for the same (account, service, method) while it has
// comfortably long to live; the cache is bounded and forgets the oldest entries first.
import type { Keypair } from '../crypto/index.ts';
import { createServiceJwt } from '../auth/service-jwt.ts';

/** The account has no signing key here (it was deleted, or is not hosted here). */
export class NoSigningKeyError extends Error {
  override name = 'NoSigningKeyError';
}

export interface ServiceTokenOptions {
  /** How long minted tokens live. Default 60 s, as the official PDS. */
  ttlS?: number;
  /** A cached token is reused only while it has at least this long left. Default 30 s. */
  minRemainingS?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  token: Promise<string>;
  exp: number;
}

export class ServiceTokens {
  readonly #keys: (did: string) => Pick<Keypair, 'alg' | 'sign'> | undefined;
  readonly #cache = new Map<string, Entry>();
  readonly #ttlS: number;
  readonly #minRemainingS: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(keys: (did: string) => Pick<Keypair, 'alg' | 'sign'> | undefined, options: ServiceTokenOptions = {}) {
    this.#keys = keys;
    this.#ttlS = options.ttlS ?? 60;
    this.#minRemainingS = options.minRemainingS ?? 30;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A token for `iss` calling `lxm` at `aud`. With `reuse`, one minted for the same triple is
   * handed out again while it has `minRemainingS` left (concurrent callers share one signature).
   * Throws `NoSigningKeyError`.
   */
  get(iss: string, aud: string, lxm: string, reuse: boolean): Promise<string> {
    if (!reuse) return this.#mint(iss, aud, lxm, Math.floor(this.#now() / 1000)).token;
    const key = `${iss} ${aud} ${lxm}`;
    const nowS = Math.floor(this.#now() / 1000);
    const cached = this.#cache.get(key);
    if (cached && cached.exp - nowS >= this.#minRemainingS) return cached.token;
    if (cached) this.#cache.delete(key);
    const entry = this.#mint(iss, aud, lxm, nowS);
    if (this.#cache.size >= this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(key, entry);
    // A failed signature is not remembered.
    entry.token.catch(() => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    });
    return entry.token;
  }

  #mint(iss: string, aud: string, lxm: string, iat: number): Entry {
    const exp = iat + this.#ttlS;
    const keypair = this.#keys(iss);
    if (!keypair) return { token: Promise.reject(new NoSigningKeyError('this account has no signing key on this server')), exp };
    return { token: createServiceJwt({ iss, aud, lxm, iat, exp, keypair, now: () => iat * 1000 }), exp };
  }
}
