// How an upstream's failures read to the client. An XRPC error (4xx) passes with its status,
// name and message; a 5xx becomes 502 with the upstream's error name when it sent XRPC JSON; an
// upstream that cannot be reached or does not answer in time is 502 UpstreamFailure. Messages
// written here never name an address: the configured services may sit on the operator's network.
import type { IncomingMessage } from 'node:http';
import { InvalidRequestError, UpstreamFailureError, XrpcError } from '../xrpc/index.ts';
import { errorResponseHeaders } from './headers.ts';
import { readJson } from './upstream-body.ts';
import { UpstreamRequestError } from './upstream.ts';

/** Error answers are small; more than this is not an XRPC error body. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const ERROR_NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;

const NAME_BY_STATUS: Record<number, string> = {
  400: 'InvalidRequest',
  401: 'AuthenticationRequired',
  403: 'Forbidden',
  404: 'NotFound',
  413: 'PayloadTooLarge',
  429: 'RateLimitExceeded',
};

/** The client's error for an upstream answer with status 400 or more (reads and frees its body). */
export async function fromUpstreamAnswer(response: IncomingMessage): Promise<XrpcError> {
  const status = response.statusCode ?? 502;
  const body = await readJson(response, MAX_ERROR_BODY_BYTES);
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const name = typeof fields.error === 'string' && ERROR_NAME_RE.test(fields.error) ? fields.error : undefined;
  const message = typeof fields.message === 'string' ? fields.message.slice(0, 2000) : undefined;
  const headers = errorResponseHeaders(response.headers);
  if (status >= 500 || status < 400) {
    return new XrpcError(502, name ?? 'UpstreamFailure', `Upstream service failed (${status})`, headers);
  }
  return new XrpcError(status, name ?? NAME_BY_STATUS[status] ?? 'InvalidRequest', message ?? `Upstream service answered ${status}`, headers);
}

/** The client's error when the upstream request itself failed; other errors pass unchanged. */
export function fromUpstreamFailure(err: unknown): unknown {
  if (!(err instanceof UpstreamRequestError)) return err;
  switch (err.reason) {
    case 'timeout':
      return new UpstreamFailureError('Upstream service timed out');
    case 'forbidden-address':
      return new InvalidRequestError('The service endpoint is not a public address this server may reach');
    default:
      return new UpstreamFailureError('Upstream service unreachable');
  }
}
