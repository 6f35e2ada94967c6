import { etagMatches, ifRangeAllows, parseRangeHeader, type RangeRequest } from '../../../../blobs/byte-range.ts';
import { servingContentType } from '../../../../blobs/content-type.ts';
import { BinaryOutput, XrpcError } from '../../../../xrpc/index.ts';
import { checkBlobRepoAccess } from '../../../blob-errors.ts';
import { defineMethod } from '../../../define.ts';

const FULL: RangeRequest = { kind: 'full' };
const NO_BODY = new Uint8Array(0);

export default defineMethod({
  nsid: 'com.atproto.sync.getBlob',
  auth: 'optionalAccess',
  oauth: 'any',
  errors: ['RangeNotSatisfiable'],
  async handler({ ctx, auth, params, req, res }) {
    const { did, cid } = params as { did: string; cid: string };
    checkBlobRepoAccess(ctx, did, auth);
    const blobs = ctx.blobs;
    const blob = blobs.servable(did, cid);
    // The bytes of a CID never change, but whether they may be served does (takedown,
    // deactivation), so caches keep them and revalidate: a 304 costs one metadata lookup.
    const etag = `"${blob.cid}"`;
    const headers: Record<string, string> = {
      ETag: etag,
      'Cache-Control': 'no-cache',
      'Accept-Ranges': 'bytes',
      // Never run as a page in this origin: no MIME guessing, no script, no rendering in place.
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Content-Disposition': `attachment; filename="${blob.cid}"`,
    };
    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers);
      res.end();
      return undefined;
    }
    const range = ifRangeAllows(req.headers['if-range'] as string | undefined, etag) ? parseRangeHeader(req.headers.range, blob.size) : FULL;
    if (range.kind === 'unsatisfiable') {
      throw new XrpcError(416, 'RangeNotSatisfiable', `Range ${req.headers.range} is outside the blob (${blob.size} bytes)`, {
        'Content-Range': `bytes */${blob.size}`,
      });
    }
    const type = servingContentType(blob.mimeType);
    const head = req.method === 'HEAD';
    if (range.kind === 'partial') {
      const body = head ? NO_BODY : await blobs.read(did, blob, range);
      headers['Content-Length'] = String(range.end - range.start + 1);
      headers['Content-Range'] = `bytes ${range.start}-${range.end}/${blob.size}`;
      return new BinaryOutput(type, body, headers, 206);
    }
    headers['Content-Length'] = String(blob.size);
    return new BinaryOutput(type, head ? NO_BODY : await blobs.read(did, blob), headers);
  },
});
