import { AccountFlowError } from '../accounts/flow-errors.ts';
import { EmailDeliveryError, InvalidEmailMessageError } from '../email/errors.ts';
import { InvalidRequestError, UpstreamFailureError } from '../xrpc/index.ts';
import { registerErrorMapper } from './errors.ts';

/**
 * How the account flows' errors read over XRPC. Emailed-code failures are 400s named as the
 * Lexicons name them (`InvalidToken`, `ExpiredToken`, `TokenRequired`), as the official PDS
 * answers: they say the code is wrong, not that the session is.
 */
registerErrorMapper((err) => {
  if (err instanceof AccountFlowError) {
    if (err.code === 'UpstreamFailure') return new UpstreamFailureError(err.message);
    return new InvalidRequestError(err.message, err.code);
  }
  // Mail that could not be handed over is the mail server's failure, not the client's.
  if (err instanceof EmailDeliveryError) return new UpstreamFailureError('Could not send the email; try again later');
  if (err instanceof InvalidEmailMessageError) return new InvalidRequestError('The email address of this account cannot receive mail');
  return undefined;
});
