import { createHash, randomUUID } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CODEC_RAW, fromDigest, toString } from '@atcute/cid';
import { SNIFF_BYTES } from './content-type.ts';
import { UploadTooLargeError } from './errors.ts';

/** Temp files of uploads carry this prefix, so a sweep of the temp directory touches nothing else. */
export const TEMP_PREFIX = 'upload-';

/** Chunks are gathered to this size before a write: one syscall per MiB, not per 16-64 KiB socket read. */
const WRITE_BATCH = 1024 * 1024;

export interface TempUpload {
  /** The temp file, complete and fsynced. */
  file: string;
  size: number;
  /** Raw-codec CIDv1 of the bytes, as a base32 string. */
  cid: string;
  /** The first bytes (up to SNIFF_BYTES), for type detection. */
  head: Uint8Array;
}

/**
 * Streams an upload to a new temp file in `dir`, hashing as it goes: memory use is one write
 * batch whatever the size. Fails with UploadTooLargeError as soon as more than `limit` bytes
 * have arrived, and removes the temp file on any failure (a client hanging up included).
 */
export async function writeTempUpload(source: AsyncIterable<Uint8Array>, opts: { dir: string; limit: number }): Promise<TempUpload> {
  const file = join(opts.dir, `${TEMP_PREFIX}${randomUUID()}`);
  const handle = await open(file, 'wx', 0o600);
  const hasher = createHash('sha256');
  const head = Buffer.allocUnsafe(SNIFF_BYTES);
  let headLength = 0;
  let size = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  // One batch is written while the next is hashed and gathered (the write runs on libuv's
  // thread pool), so disk time and hashing overlap instead of adding up.
  let writing: Promise<void> = Promise.resolve();
  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > opts.limit) throw new UploadTooLargeError(opts.limit);
      hasher.update(chunk);
      if (headLength < SNIFF_BYTES) {
        const take = Math.min(SNIFF_BYTES - headLength, chunk.byteLength);
        head.set(chunk.subarray(0, take), headLength);
        headLength += take;
      }
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= WRITE_BATCH) {
        await writing;
        writing = writeFully(handle, pending, pendingBytes);
        // Rejections surface at the next await of `writing`; this only stops an unhandled report.
        writing.catch(() => {});
        pending = [];
        pendingBytes = 0;
      }
    }
    await writing;
    if (pendingBytes > 0) await writeFully(handle, pending, pendingBytes);
    // fdatasync covers the data and the file size: all a new file needs to be read back whole.
    await handle.datasync();
  } catch (err) {
    await writing.catch(() => {});
    await handle.close().catch(() => {});
    await unlink(file).catch(() => {});
    throw err;
  }
  await handle.close();
  const cid = toString(fromDigest(CODEC_RAW, hasher.digest()));
  return { file, size, cid, head: head.subarray(0, headLength) };
}

async function writeFully(handle: FileHandle, buffers: Uint8Array[], total: number): Promise<void> {
  const { bytesWritten } = await handle.writev(buffers);
  if (bytesWritten === total) return;
  // A short write (rare on regular files, e.g. a signal): finish from where it stopped.
  let rest = Buffer.concat(buffers, total).subarray(bytesWritten);
  while (rest.length > 0) {
    const { bytesWritten: n } = await handle.write(rest);
    rest = rest.subarray(n);
  }
}
