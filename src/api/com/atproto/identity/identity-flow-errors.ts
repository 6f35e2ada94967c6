/**
 * Refusals of the identity flows (handle changes, PLC operations) that are not account-policy
 * errors: an external handle that does not point at the caller, an operation that would take
 * the identity away from this server, a PLC directory that said no. No HTTP here: the API
 * layer maps them in `src/api/identity-errors.ts`.
 */
export class IdentityFlowError extends Error {
  override name = 'IdentityFlowError';

  constructor(
    readonly code: IdentityFlowErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type IdentityFlowErrorCode =
  /** The request cannot be served as asked; the message says why. */
  | 'InvalidRequest'
  /** A handle that resolves to no DID (resolveHandle). */
  | 'HandleNotFound'
  /** The PLC directory (or a DID's host) refused or failed. */
  | 'UpstreamFailure';
