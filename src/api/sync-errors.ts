import { StreamError } from '../sync/firehose.ts';
import { RepoExportError } from '../sync/repo-export.ts';
import { XrpcError } from '../xrpc/index.ts';
import { registerErrorMapper } from './errors.ts';

/** Firehose stream errors become error frames with their own names. */
registerErrorMapper((err) => (err instanceof StreamError ? new XrpcError(400, err.code, err.message) : undefined));

registerErrorMapper((err) => {
  if (!(err instanceof RepoExportError)) return undefined;
  return new XrpcError(err.code === 'RepoNotFound' ? 400 : 404, err.code, err.message);
});
