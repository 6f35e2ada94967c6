export { BlobService, DEFAULT_TEMP_TTL_MS, type BlobLogger, type BlobRefJson, type BlobServiceOptions, type ServableBlob } from './blob-service.ts';
export type { BlobStore, ByteRange, StoredBlob } from './blob-store.ts';
export { DiskBlobStore } from './disk-blob-store.ts';
export { detectMimeType, servingContentType } from './content-type.ts';
export { etagMatches, ifRangeAllows, parseRangeHeader, type RangeRequest } from './byte-range.ts';
export { BlobError, BlobNotFoundError, BlobRefError, BlobStoreError, BlobTakendownError, UploadTooLargeError, type BlobRefErrorCode } from './errors.ts';
