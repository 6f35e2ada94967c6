// Outbound-request failures. Messages name the origin only (never the path, query or headers), so
// they are safe to log even when the URL or an Authorization header carried a secret.
import type { AddressClass } from './ip-address.ts';

export type SafeFetchFailure =
  | 'invalid-url'
  | 'forbidden-protocol'
  | 'forbidden-address'
  | 'forbidden-origin'
  | 'dns'
  | 'connect-timeout'
  | 'timeout'
  | 'too-large'
  | 'too-many-redirects'
  | 'bad-redirect'
  | 'network'
  | 'aborted';

export class SafeFetchError extends Error {
  override name = 'SafeFetchError';

  constructor(
    readonly reason: SafeFetchFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The host resolved to (or is) an address the request may not reach. */
export class ForbiddenAddressError extends SafeFetchError {
  override name = 'ForbiddenAddressError';

  constructor(
    readonly host: string,
    readonly address: string,
    readonly addressClass: Exclude<AddressClass, 'public'>,
  ) {
    super('forbidden-address', `refusing to connect to ${host}: ${address} is a ${addressClass} address`);
  }
}
