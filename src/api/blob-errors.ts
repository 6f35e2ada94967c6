import type { AuthState } from '../auth/types.ts';
import { BlobNotFoundError, BlobRefError, BlobTakendownError, UploadTooLargeError } from '../blobs/errors.ts';
import type { AppContext } from '../context.ts';
import { InvalidRequestError, NotFoundError, PayloadTooLargeError, XrpcError } from '../xrpc/index.ts';
import { registerErrorMapper } from './errors.ts';
import { assertRepoReadable } from './repo-access.ts';

/** Error names a record write may emit because of its blob refs: spread them into the write methods' `errors`. */
export const BLOB_REF_ERRORS = ['BlobNotFound', 'InvalidMimeType', 'InvalidSize', 'BlobTooLarge'];

/** How blob-domain errors read over XRPC. */
registerErrorMapper((err) => {
  // A record naming a blob it may not use is a bad request, like the rest of a bad record.
  if (err instanceof BlobRefError) return new InvalidRequestError(err.message, err.code);
  if (err instanceof BlobNotFoundError) return new NotFoundError(err.message, 'BlobNotFound');
  if (err instanceof UploadTooLargeError) return new PayloadTooLargeError(err.message, 'BlobTooLarge');
  if (err instanceof BlobTakendownError) return new InvalidRequestError(err.message);
  return undefined;
});

/**
 * The account whose blobs getBlob and listBlobs serve must exist here and be readable by the
 * caller: anyone while it is active, its own owner also while it may export its data (to migrate).
 */
export function checkBlobRepoAccess(ctx: AppContext, did: string, auth: AuthState): void {
  const account = ctx.accounts.refByDid(did);
  if (!account) throw new XrpcError(400, 'RepoNotFound', `Could not find repo for DID: ${did}`);
  assertRepoReadable(account, auth);
}
