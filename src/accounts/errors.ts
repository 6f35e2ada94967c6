/** Errors of the accounts domain. The API layer maps them to XRPC errors in one place. */
export class AccountError extends Error {
  constructor(readonly code: AccountErrorCode, message: string) {
    super(message);
  }
}

export type AccountErrorCode =
  | 'AccountNotFound'
  | 'InvalidHandle'
  | 'UnsupportedDomain'
  | 'HandleNotAvailable'
  | 'InvalidEmail'
  | 'EmailTaken'
  | 'InvalidPassword'
  | 'InvalidInviteCode'
  | 'AuthFactorTokenRequired'
  | 'AccountTakedown'
  | 'AccountDeactivated'
  | 'InvalidToken'
  | 'ExpiredToken'
  | 'DuplicateAppPassword'
  | 'TooManyAppPasswords'
  | 'IncompatibleDidDoc'
  | 'AlreadyExists'
  | 'AuthenticationRequired'
  | 'InvalidInput';
