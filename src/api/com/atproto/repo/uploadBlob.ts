import { requireAccess } from '../../../../auth/types.ts';
import { UploadTooLargeError } from '../../../../blobs/errors.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.uploadBlob',
  auth: 'access',
  accountAction: 'uploadBlob',
  oauth: (permissions, { inputEncoding }) => permissions.assertBlob({ mime: inputEncoding ?? 'application/octet-stream' }),
  errors: ['BlobTooLarge'],
  // The blob service enforces PDS_BLOB_UPLOAD_LIMIT itself while the body streams, so the
  // answer is 413 BlobTooLarge; the controller's own limit (which would say PayloadTooLarge)
  // is lifted for this method.
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
  // The official PDS's limit: 1,000 uploads a day per account.
  rateLimits: [{ name: 'upload-blob-day', points: 1000, windowMs: 24 * 60 * 60 * 1000, key: ({ auth }) => (auth as { did?: string }).did }],
  async handler({ ctx, auth, input, inputEncoding, req }) {
    const { did } = requireAccess(auth);
    const blobs = ctx.blobs;
    // A body announced as too large is refused before a byte of it is read.
    const declared = Number(req.headers['content-length']);
    if (declared > blobs.uploadLimit) throw new UploadTooLargeError(blobs.uploadLimit);
    const blob = await blobs.upload(did, input as AsyncIterable<Uint8Array>, inputEncoding);
    return { blob };
  },
});
