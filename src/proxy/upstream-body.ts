// Reading an upstream answer the PDS must look into itself (an error to translate, a view to merge
// local records into): decoded from its content encoding and capped, before and after decoding.
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { createRequire } from 'node:module';
import type Zlib from 'node:zlib';

// node:zlib (~2 MB resident) is loaded when the first encoded answer arrives, not at boot.
const require = createRequire(import.meta.url);
const zlib = () => require('node:zlib') as typeof Zlib;

/** The content codings a PDS can read, in the order it prefers them. */
export const READABLE_ENCODINGS = 'gzip, br, deflate, identity';

export class UpstreamBodyError extends Error {
  override name = 'UpstreamBodyError';
}

function decoderFor(encoding: string | undefined): Transform | undefined | null {
  switch ((encoding ?? 'identity').trim().toLowerCase()) {
    case 'identity':
    case '':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return zlib().createGunzip();
    case 'deflate':
      return zlib().createInflate();
    case 'br':
      return zlib().createBrotliDecompress();
    case 'zstd':
      return zlib().createZstdDecompress();
    default:
      return null;
  }
}

/** Whether `readBody` can decode an answer with this content encoding. */
export function canDecode(encoding: string | string[] | undefined): boolean {
  return !Array.isArray(encoding) && decoderFor(encoding) !== null;
}

/** The whole decoded body, at most `maxBytes`; throws `UpstreamBodyError` beyond that or on bad data. */
export async function readBody(response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = response.headers['content-encoding'];
  const decoder = Array.isArray(encoding) ? null : decoderFor(encoding);
  if (decoder === null) {
    response.destroy();
    throw new UpstreamBodyError('the upstream answer has a content encoding this server cannot read');
  }
  const source: Readable = decoder ? response.pipe(decoder) : response;
  if (decoder) response.on('error', (err) => decoder.destroy(err));
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw new UpstreamBodyError(`the upstream answer is larger than ${maxBytes} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    response.destroy();
    if (err instanceof UpstreamBodyError) throw err;
    throw new UpstreamBodyError('the upstream answer could not be read', { cause: err });
  }
  return Buffer.concat(chunks, size);
}

/** The body as JSON, or undefined when it is not (or not readable). */
export async function readJson(response: IncomingMessage, maxBytes: number): Promise<unknown> {
  if (!isJson(response.headers['content-type'])) {
    discard(response, maxBytes);
    return undefined;
  }
  try {
    return JSON.parse((await readBody(response, maxBytes)).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Drops an answer nobody reads: drained when short (its connection stays in the pool), else cut off. */
export function discard(response: IncomingMessage, maxBytes: number): void {
  const length = Number(response.headers['content-length']);
  if (Number.isFinite(length) && length <= maxBytes) response.resume();
  else response.destroy();
}

export function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim());
}
