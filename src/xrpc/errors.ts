/**
 * The one typed error of the XRPC surface. Only the controller turns it into a response;
 * domain modules never import it (they throw their own errors, which the API layer maps).
 */
export class XrpcError extends Error {
  readonly status: number;
  readonly error: string;
  readonly headers: Record<string, string>;

  constructor(status: number, error: string, message?: string, headers?: Record<string, string>) {
    super(message ?? error);
    this.status = status;
    this.error = error;
    this.headers = headers ?? {};
  }

  toJSON(): { error: string; message: string } {
    return { error: this.error, message: this.message };
  }
}

export class InvalidRequestError extends XrpcError {
  constructor(message = 'Invalid request', error = 'InvalidRequest') {
    super(400, error, message);
  }
}

export class AuthRequiredError extends XrpcError {
  constructor(message = 'Authentication required', error = 'AuthenticationRequired') {
    super(401, error, message, { 'WWW-Authenticate': wwwAuthenticate(error, message) });
  }
}

/** Credentials were presented but are not valid (bad signature, wrong secret, unknown session). */
export class InvalidTokenError extends XrpcError {
  constructor(message = 'Invalid token', error = 'InvalidToken') {
    super(401, error, message, { 'WWW-Authenticate': wwwAuthenticate(error, message) });
  }
}

export class ExpiredTokenError extends XrpcError {
  constructor(message = 'Token has expired') {
    super(401, 'ExpiredToken', message, { 'WWW-Authenticate': wwwAuthenticate('ExpiredToken', message) });
  }
}

export class ForbiddenError extends XrpcError {
  constructor(message = 'Forbidden', error = 'Forbidden') {
    super(403, error, message);
  }
}

export class NotFoundError extends XrpcError {
  constructor(message = 'Not found', error = 'NotFound') {
    super(404, error, message);
  }
}

export class MethodNotImplementedError extends XrpcError {
  constructor(message = 'Method not implemented') {
    super(404, 'MethodNotImplemented', message);
  }
}

export class ConflictError extends XrpcError {
  constructor(message: string, error = 'InvalidSwap') {
    super(409, error, message);
  }
}

export class PayloadTooLargeError extends XrpcError {
  constructor(message = 'Request body too large', error = 'PayloadTooLarge') {
    super(413, error, message);
  }
}

export class RateLimitExceededError extends XrpcError {
  constructor(message: string, headers: Record<string, string>) {
    super(429, 'RateLimitExceeded', message, headers);
  }
}

export class InternalServerError extends XrpcError {
  constructor(message = 'Internal Server Error') {
    super(500, 'InternalServerError', message);
  }
}

export class UpstreamFailureError extends XrpcError {
  constructor(message = 'Upstream failure', error = 'UpstreamFailure') {
    super(502, error, message);
  }
}

export class NotEnoughResourcesError extends XrpcError {
  constructor(message = 'Service unavailable', error = 'NotEnoughResources') {
    super(503, error, message);
  }
}

/**
 * Error names any method may emit without declaring them: they come from the controller,
 * the auth layer or infrastructure, not from a method's own logic.
 */
export const GENERIC_ERROR_NAMES: ReadonlySet<string> = new Set([
  'InvalidRequest',
  'AuthenticationRequired',
  'InvalidToken',
  'ExpiredToken',
  'Forbidden',
  'MethodNotImplemented',
  'PayloadTooLarge',
  'RateLimitExceeded',
  'InternalServerError',
  'UpstreamFailure',
  'UpstreamTimeout',
  'NotEnoughResources',
  'AccountTakedown',
  'AccountDeactivated',
]);

function wwwAuthenticate(error: string, message: string): string {
  const quoted = message.replace(/["\\]/g, '');
  return `Bearer error="${error}", error_description="${quoted}"`;
}
