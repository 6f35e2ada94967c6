import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { hash, randomUUID } from 'node:crypto';
import { BufferPool } from './buffer-pool.ts';
import { PooledFileStream } from './pooled-file-stream.ts';
import { checkBlobKey, checkDidKey, checkRange, type BlobStore, type ByteRange, type StoredBlob } from './blob-store.ts';

/**
 * Read chunk size. Each chunk is one read on the thread pool and one write to the socket, so a
 * larger chunk costs less per byte: load.mjs's getBlob of 1 MB took 1.17 ms of server CPU per
 * answer with 256 KB chunks against 1.67 with 64 KB (Node's default for file streams), and its p50
 * and p99 were lower too (12 runs of each, interleaved; docs/benchmarks.md, round sixteen). Round
 * three had kept 64 KB: with a test suite running beside, the first wave of eight downloads
 * finished one after another with 256 KB. Round nine found 256 KB no better for the p99 and did
 * not compare the CPU.
 */
const READ_CHUNK = 256 * 1024;
/**
 * Read buffers kept for reuse when no download needs them: 16 of 256 KB, 4 MB at most. A download
 * has about two in use at a time (one being sent, one being read), so this covers ~8 at once;
 * more than that allocate as before (buffer-pool.ts says why allocating less matters).
 */
const READ_BUFFERS_KEPT = 16;
const MAX_DIR_NAME = 200;

/**
 * Blobs as files: `<root>/<did>/<shard>/<cid>`, the DID percent-encoded (no `:` or `/` in names)
 * and the shard the two base32 characters before the CID's last one. Those are pure digest
 * bits (the first characters of a blob CID are always `bafkrei` and the last one carries only
 * 3 bits), so an account's blobs spread evenly over 1,024 directories instead of one folder.
 *
 * Writes are a rename of the caller's fsynced file, then an fsync of the directory, so a blob
 * is either wholly there or absent after a crash; a new directory is fsynced into its parent.
 */
export class DiskBlobStore implements BlobStore {
  readonly #readBuffers = new BufferPool(READ_CHUNK, READ_BUFFERS_KEPT);

  constructor(readonly root: string) {}

  /** The file of a blob (exposed for operators' tools and tests). */
  pathOf(did: string, cid: string): string {
    checkBlobKey(did, cid);
    return join(this.#accountDir(did), cid.slice(-3, -1), cid);
  }

  async putFile(did: string, cid: string, file: string): Promise<void> {
    const target = this.pathOf(did, cid);
    const dir = dirname(target);
    await ensureDir(dir);
    try {
      await rename(file, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      // The temp directory is on another filesystem: copy beside the target, make the copy
      // durable, then rename it in, so the target is never seen half-written.
      const beside = `${target}.${randomUUID()}.partial`;
      try {
        await copyFile(file, beside, constants.COPYFILE_FICLONE);
        await syncFile(beside);
        await rename(beside, target);
      } catch (copyErr) {
        await unlink(beside).catch(() => {});
        throw copyErr;
      }
      await unlink(file).catch(() => {});
    }
    await syncDir(dir);
  }

  async get(did: string, cid: string, range?: ByteRange): Promise<StoredBlob | undefined> {
    const path = this.pathOf(did, cid);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (range) checkRange(range, size);
      // The stream owns the descriptor from here and closes it when done or destroyed. An open
      // descriptor also keeps the bytes readable if the blob is deleted mid-download.
      const stream = new PooledFileStream(handle, range?.start ?? 0, range?.end ?? size - 1, this.#readBuffers);
      return { size, stream };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async stat(did: string, cid: string): Promise<{ size: number } | undefined> {
    try {
      const info = await stat(this.pathOf(did, cid));
      return { size: info.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async exists(did: string, cid: string): Promise<boolean> {
    return (await this.stat(did, cid)) !== undefined;
  }

  async delete(did: string, cid: string): Promise<void> {
    const path = this.pathOf(did, cid);
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    // Without this a crash could bring the file back: harmless, but disk the account no longer has.
    await syncDir(dirname(path));
  }

  async deleteAll(did: string): Promise<void> {
    checkDidKey(did);
    await rm(this.#accountDir(did), { recursive: true, force: true });
    await syncDir(this.root).catch(() => {});
  }

  #accountDir(did: string): string {
    const name = encodeURIComponent(did);
    // File names stop at 255 bytes; a DID that long (a did:web on a very long host) is named by
    // its start and a hash of the whole, which stays unique.
    return join(this.root, name.length <= MAX_DIR_NAME ? name : `${name.slice(0, 120)}~${hash('sha256', did, 'hex')}`);
  }
}

/** mkdir -p, fsyncing each parent that gained a directory so the new path survives a crash. */
async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // `first` is the topmost directory created; every directory from its parent down changed.
  let current = dir;
  const changed: string[] = [];
  while (current.length >= first.length) {
    changed.push(dirname(current));
    current = dirname(current);
  }
  for (const parent of changed) await syncDir(parent);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
