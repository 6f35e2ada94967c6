import { accountStatus } from '../accounts/account-store.ts';
import type { AuthState } from '../auth/types.ts';
import { BlobNotFoundError, BlobRefError, BlobTakendownError, UploadTooLargeError } from '../blobs/errors.ts';
import type { AppContext } from '../context.ts';
import { InvalidRequestError, NotFoundError, PayloadTooLargeError, XrpcError } from '../xrpc/index.ts';
import { registerErrorMapper } from './errors.ts';

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
 * The account whose blobs getBlob and listBlobs serve must exist here and be neither taken down
 * nor deactivated; its own (authenticated) owner may still read a deactivated account's blobs,
 * e.g. to migrate away.
 */
export function checkBlobRepoAccess(ctx: AppContext, did: string, auth: AuthState): void {
  const account = ctx.accounts.byDid(did);
  if (!account) throw new XrpcError(400, 'RepoNotFound', `Could not find repo for DID: ${did}`);
  if (auth.type === 'access' && auth.did === did) return;
  const status = accountStatus(account);
  if (status === 'takendown') throw new XrpcError(400, 'RepoTakendown', `Repo has been taken down: ${did}`);
  if (status === 'deactivated') throw new XrpcError(400, 'RepoDeactivated', `Repo has been deactivated: ${did}`);
}
