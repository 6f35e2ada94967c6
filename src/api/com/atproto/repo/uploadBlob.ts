import { requireAccess } from '../../../../auth/types.ts';
import { UploadTooLargeError } from '../../../../blobs/errors.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.uploadBlob',
  auth: 'access',
  errors: ['BlobTooLarge'],
  // The blob service enforces PDS_BLOB_UPLOAD_LIMIT itself while the body streams, so the
  // answer is 413 BlobTooLarge; the controller's own limit (which would say PayloadTooLarge)
  // is lifted for this method.
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
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
