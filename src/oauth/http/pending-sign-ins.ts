// A password checked on the pages while the account still owes the code mailed to it (email as a
// second factor): remembered for a few minutes under a random id the code form carries, so the
// person types only the code next. The id is worth nothing alone: it is bound to the browser
// (device cookie) and to what the sign-in was for (one authorization request, or the
// authorized-apps page), works once, expires after PENDING_SIGN_IN_TTL_MS, and is dropped after
// PENDING_SIGN_IN_MAX_WRONG_CODES wrong codes (the password is then asked again). In memory, per
// process: a restart only means typing the password again. Bounded: at most MAX_PENDING entries
// (about 300 bytes each, so under 3 MB); when full the oldest is forgotten, which costs its owner
// the password again and never lets anything through.
import { randomBytes } from 'node:crypto';

export const PENDING_SIGN_IN_TTL_MS = 10 * 60_000;
export const PENDING_SIGN_IN_MAX_WRONG_CODES = 5;
const MAX_PENDING = 10_000;

export interface PendingSignIn {
  readonly did: string;
  /** What the account's password was when it was checked (the directory's opaque stamp). */
  readonly stamp: string;
  readonly remember: boolean;
}

interface Entry extends PendingSignIn {
  readonly deviceId: string;
  readonly purpose: string;
  readonly expiresAt: number;
  wrongCodes: number;
}

export class PendingSignIns {
  // Insertion order is expiry order (one lifetime for all), so sweeping stops at the first live entry.
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly now: () => number = Date.now,
    readonly maxEntries = MAX_PENDING,
  ) {}

  /** Remembers a checked password for `deviceId` and `purpose`; returns the id the code form carries. */
  start(deviceId: string, purpose: string, signIn: PendingSignIn): string {
    this.#sweep();
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    const id = randomBytes(24).toString('base64url');
    this.#entries.set(id, { ...signIn, deviceId, purpose, expiresAt: this.now() + PENDING_SIGN_IN_TTL_MS, wrongCodes: 0 });
    return id;
  }

  /** The pending sign-in `id` names, if it is live and was started by this device for this purpose. */
  find(id: string | undefined, deviceId: string, purpose: string): PendingSignIn | undefined {
    if (typeof id !== 'string') return undefined;
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.deviceId === deviceId && entry.purpose === purpose ? entry : undefined;
  }

  /** Counts a wrong code; false once the sign-in has used up its attempts (it is then forgotten). */
  wrongCode(id: string): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    entry.wrongCodes++;
    if (entry.wrongCodes < PENDING_SIGN_IN_MAX_WRONG_CODES) return true;
    this.#entries.delete(id);
    return false;
  }

  /** Ends a pending sign-in (completed, or no longer usable): its id never works again. */
  forget(id: string): void {
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(id);
    }
  }
}
