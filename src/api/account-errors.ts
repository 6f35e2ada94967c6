import { AccountStateError } from '../accounts/account-policy.ts';
import { AccountError } from '../accounts/errors.ts';
import { AuthRequiredError, ExpiredTokenError, InvalidRequestError, InvalidTokenError, XrpcError } from '../xrpc/index.ts';
import { registerErrorMapper } from './errors.ts';

/**
 * An account state refusal, named as the official PDS names it: a repo others may not read is
 * `RepoTakendown`/`RepoDeactivated` (400); anything the account itself may not do now is
 * `AccountTakedown`/`AccountDeactivated` (401). An arriving account is deactivated to clients.
 */
registerErrorMapper((err) => {
  if (!(err instanceof AccountStateError)) return undefined;
  const takendown = err.state === 'takendown';
  if (err.action === 'publicRepoRead') return new XrpcError(400, takendown ? 'RepoTakendown' : 'RepoDeactivated', err.message);
  return new XrpcError(401, takendown ? 'AccountTakedown' : 'AccountDeactivated', err.message);
});

/** How account-domain errors read over XRPC. */
registerErrorMapper((err) => {
  if (!(err instanceof AccountError)) return undefined;
  switch (err.code) {
    case 'InvalidPassword':
    case 'AuthenticationRequired':
      return new AuthRequiredError(err.message, 'AuthenticationRequired');
    case 'AuthFactorTokenRequired':
      return new AuthRequiredError(err.message, 'AuthFactorTokenRequired');
    case 'InvalidToken':
      return new InvalidTokenError(err.message);
    case 'ExpiredToken':
      return new ExpiredTokenError(err.message);
    case 'AccountTakedown':
      return new XrpcError(401, 'AccountTakedown', err.message);
    case 'AccountNotFound':
      return new XrpcError(400, 'AccountNotFound', err.message);
    default:
      return new InvalidRequestError(err.message, err.code === 'InvalidInput' ? 'InvalidRequest' : err.code);
  }
});
