import { RepoImportError } from '../repo/import/import-repo.ts';
import { RepoWriteError } from '../repo/write-errors.ts';
import { ConflictError, InvalidRequestError, NotFoundError, PayloadTooLargeError, XrpcError } from '../xrpc/index.ts';
import { BLOB_REF_ERRORS } from './blob-errors.ts';
import { registerErrorMapper } from './errors.ts';

/** Error names the record methods may emit beyond their Lexicons' own. */
export const REPO_WRITE_ERRORS = ['InvalidSwap', 'InvalidRecord', 'RecordNotFound', 'RepoNotFound', 'RepoDeactivated', 'RepoTakendown', 'RecordTooLarge', 'InvalidRecordKey', 'InvalidCollection', 'TooManyWrites', ...BLOB_REF_ERRORS];

registerErrorMapper((err) => (err instanceof RepoImportError ? new InvalidRequestError(err.message) : undefined));

registerErrorMapper((err) => {
  if (!(err instanceof RepoWriteError)) return undefined;
  switch (err.code) {
    case 'InvalidSwap':
    case 'RecordExists':
      return new ConflictError(err.message, 'InvalidSwap');
    case 'RecordNotFound':
      return new NotFoundError(err.message, 'RecordNotFound');
    case 'RepoNotFound':
      return new NotFoundError(err.message, 'RepoNotFound');
    case 'RecordTooLarge':
      return new PayloadTooLargeError(err.message, 'RecordTooLarge');
    case 'RepoDeactivated':
      return new XrpcError(400, 'RepoDeactivated', err.message);
    case 'RepoTakendown':
      return new XrpcError(400, 'RepoTakendown', err.message);
    default:
      return new InvalidRequestError(err.message, err.code);
  }
});
