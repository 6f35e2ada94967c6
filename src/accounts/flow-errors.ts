/**
 * Errors of the account flows that run on emailed codes and admin actions. Kept apart from
 * `AccountError` because they read differently over XRPC: a wrong or stale emailed code is a
 * 400 about the request (as the official PDS answers), not a 401 about the session, which
 * clients would take as a reason to refresh or drop their login.
 */
export class AccountFlowError extends Error {
  constructor(
    readonly code: AccountFlowErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type AccountFlowErrorCode =
  /** The emailed code does not match (wrong, already used, or never requested). */
  | 'InvalidToken'
  /** The emailed code matched but is older than its lifetime. */
  | 'ExpiredToken'
  /** The account's email is confirmed, so changing it needs the code mailed to it. */
  | 'TokenRequired'
  /** An admin named an account or subject that does not exist. */
  | 'NotFound'
  /** A request that cannot be served as asked (no email on file, unsupported subject...). */
  | 'InvalidRequest'
  /** A service this flow depends on (the PLC directory) refused or failed. */
  | 'UpstreamFailure';
