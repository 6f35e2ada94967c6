// Server-issued DPoP nonces (RFC 9449 §8), mandatory in atproto. A nonce is an HMAC of the current
// time step, so every process that shares the secret agrees on it and nothing is stored. The
// current, the previous and the next step's nonces are accepted: a nonce lives at most three
// steps (three minutes by default, under the spec's five), and a client whose requests cross a
// rotation is not sent back for a new one.
import { createHmac } from 'node:crypto';

export const DPOP_NONCE_STEP_MS = 60_000;

export class DpopNonces {
  #step = Number.NaN;
  #current = '';
  readonly #secret: Buffer;

  constructor(
    secret: Buffer,
    readonly stepMs = DPOP_NONCE_STEP_MS,
    readonly now: () => number = Date.now,
  ) {
    this.#secret = secret;
  }

  /** The nonce to hand out now (sent as `DPoP-Nonce` on every answer to a DPoP request). */
  current(): string {
    const step = this.#stepNow();
    if (step !== this.#step) {
      this.#step = step;
      this.#current = this.#nonceFor(step);
    }
    return this.#current;
  }

  /** The time step a nonce belongs to, when it is still accepted; undefined otherwise. */
  stepOf(nonce: string): number | undefined {
    const step = this.#stepNow();
    if (nonce === this.current()) return step;
    if (nonce.length !== this.#current.length) return undefined;
    if (nonce === this.#nonceFor(step - 1)) return step - 1;
    if (nonce === this.#nonceFor(step + 1)) return step + 1;
    return undefined;
  }

  /** The current step: replay memory of older steps than `current - 1` can be dropped. */
  currentStep(): number {
    return this.#stepNow();
  }

  #stepNow(): number {
    return Math.floor(this.now() / this.stepMs);
  }

  #nonceFor(step: number): string {
    return createHmac('sha256', this.#secret).update(`dpop-nonce:${step}`).digest('base64url');
  }
}
