import { serviceAuthXrpcError } from '../auth/service-auth-verifier.ts';
import { ServiceJwtParamsError } from '../auth/service-jwt.ts';
import {
  DidNotFoundError,
  DidResolutionError,
  InvalidDidDocumentError,
  InvalidDidError,
  InvalidHandleError,
  PlcOperationError,
  PlcRequestError,
  UnsupportedDidMethodError,
} from '../identity/errors.ts';
import { InvalidRequestError, UpstreamFailureError } from '../xrpc/index.ts';
import { IdentityFlowError } from './com/atproto/identity/identity-flow-errors.ts';
import { registerErrorMapper } from './errors.ts';

/**
 * How identity errors read over XRPC. What the caller sent (a bad handle, DID or operation) is
 * a 400; what a directory or DID host did wrong is a 502, so clients know to retry later rather
 * than change their request.
 */
registerErrorMapper((err) => {
  if (err instanceof IdentityFlowError) {
    if (err.code === 'UpstreamFailure') return new UpstreamFailureError(err.message);
    return new InvalidRequestError(err.message, err.code);
  }
  // Minting: `exp` outside the official limits is `BadExpiration`, as getServiceAuth declares.
  if (err instanceof ServiceJwtParamsError) return new InvalidRequestError(err.message, err.reason);
  // Verifying: the official verifier's names (`BadJwtSignature`, `JwtExpired`...), as 401s.
  const serviceAuthError = serviceAuthXrpcError(err);
  if (serviceAuthError !== undefined) return serviceAuthError;
  if (err instanceof PlcRequestError || err instanceof DidResolutionError) return new UpstreamFailureError(err.message);
  if (
    err instanceof PlcOperationError ||
    err instanceof InvalidHandleError ||
    err instanceof InvalidDidError ||
    err instanceof UnsupportedDidMethodError ||
    err instanceof InvalidDidDocumentError ||
    err instanceof DidNotFoundError
  ) {
    return new InvalidRequestError(err.message);
  }
  return undefined;
});
