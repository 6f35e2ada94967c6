/** Errors of the blob domain. They know nothing of HTTP: `src/api/blob-errors.ts` maps them once. */
export class BlobError extends Error {}

/** Why a record may not reference a blob; the record write fails with it. */
export type BlobRefErrorCode =
  /** Never uploaded by this account, expired, deleted, or taken down. */
  | 'BlobNotFound'
  /** The ref's MIME type differs from the sniffed one, or the field's `accept` refuses the sniffed one. */
  | 'InvalidMimeType'
  /** The ref's size differs from the stored size. */
  | 'InvalidSize'
  /** The stored size is over the field's `maxSize`. */
  | 'BlobTooLarge';

export class BlobRefError extends BlobError {
  constructor(
    readonly code: BlobRefErrorCode,
    message: string,
    /** Where the ref sits in the record (`embed/images/0/image`). */
    readonly path?: string,
  ) {
    super(message);
  }
}

/** A read of a blob this PDS does not serve: absent, still temporary, or taken down. */
export class BlobNotFoundError extends BlobError {
  constructor(readonly cid: string) {
    super(`Blob not found: ${cid}`);
  }
}

/** An upload went past the size limit; raised as soon as the limit is crossed, not at the end. */
export class UploadTooLargeError extends BlobError {
  constructor(readonly limit: number) {
    super(`Blob is larger than the upload limit of ${limit} bytes`);
  }
}

/** The same bytes were taken down for this account: they may not come back by re-uploading. */
export class BlobTakendownError extends BlobError {
  constructor(readonly cid: string) {
    super(`Blob has been taken down and can not be uploaded again: ${cid}`);
  }
}

/** A blob store was handed a key it refuses (a malformed DID or CID) or a range outside the blob. */
export class BlobStoreError extends BlobError {}
