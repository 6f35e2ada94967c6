import { AccountError } from '../accounts/errors.ts';
import { AuthRequiredError, ExpiredTokenError, InvalidRequestError, InvalidTokenError, XrpcError } from '../xrpc/index.ts';
import { registerErrorMapper } from './errors.ts';

/** How account-domain errors read over XRPC. */
registerErrorMapper((err) => {
  if (!(err instanceof AccountError)) return undefined;
  switch (err.code) {
    case 'InvalidPassword':
      return new AuthRequiredError(err.message, 'AuthenticationRequired');
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
