import { importKeypairSync, type Keypair, type SigAlg } from '../crypto/index.ts';

/** How a signing key is stored: `<alg>:<private key hex>`. */
export function encodeSigningKey(keypair: Keypair): string {
  return `${keypair.alg}:${Buffer.from(keypair.exportPrivateKey()).toString('hex')}`;
}

export function decodeSigningKey(stored: string): Keypair {
  const colon = stored.indexOf(':');
  const alg = stored.slice(0, colon) as SigAlg;
  if (alg !== 'ES256K' && alg !== 'ES256') throw new Error('unknown signing key algorithm');
  return importKeypairSync(alg, stored.slice(colon + 1));
}

/**
 * Signing keys of the hosted repos, imported once and kept (bounded) so a commit does not pay
 * for parsing its key. Entries are dropped when a key rotates.
 */
export class SigningKeys {
  readonly #cache = new Map<string, Keypair>();

  constructor(
    private readonly lookup: (did: string) => string | undefined,
    private readonly max = 10_000,
  ) {}

  get(did: string): Keypair | undefined {
    let keypair = this.#cache.get(did);
    if (keypair) return keypair;
    const stored = this.lookup(did);
    if (!stored) return undefined;
    keypair = decodeSigningKey(stored);
    if (this.#cache.size >= this.max) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(did, keypair);
    return keypair;
  }

  forget(did: string): void {
    this.#cache.delete(did);
  }
}
