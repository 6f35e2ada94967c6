// Test support for the blob unit tests: a real SQLite file and a real disk store in a temp dir.
import { hash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CODEC_RAW, fromDigest, toString } from '@atcute/cid';
import { Database, migrate, migrations } from '../db/index.ts';
import blobsMigration from '../db/migrations/0005-blobs.ts';
import { BlobService, type BlobServiceOptions } from './blob-service.ts';
import { DiskBlobStore } from './disk-blob-store.ts';

// Smallest valid PNG: a real signature and IHDR, so the magic-number detector says image/png.
export const TINY_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

/** A PNG of exactly `size` bytes (the tiny image, then bytes after IEND that decoders ignore). */
export function pngOfSize(size: number, fill = 0): Buffer {
  const out = Buffer.alloc(Math.max(size, TINY_PNG.length), fill);
  TINY_PNG.copy(out);
  return out;
}

export function rawCid(bytes: Uint8Array): string {
  return toString(fromDigest(CODEC_RAW, hash('sha256', bytes, 'buffer')));
}

/** Yields `bytes` in chunks, as a request body arrives. */
export async function* chunksOf(bytes: Uint8Array, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export interface BlobFixture {
  dir: string;
  db: Database;
  store: DiskBlobStore;
  tmpDir: string;
  service: BlobService;
  /** The service's clock; tests set it. */
  clock: { now: Date };
  close(): void;
}

export function blobFixture(options: Partial<Omit<BlobServiceOptions, 'db' | 'store' | 'tmpDir' | 'now'>> = {}): BlobFixture {
  const dir = mkdtempSync(join(tmpdir(), 'squall-'));
  const db = new Database(join(dir, 'pds.sqlite'));
  // Until the migration list names 0005 itself, add it here; once it does, it is not added twice.
  const all = migrations.some((m) => m.id === blobsMigration.id) ? migrations : [...migrations, blobsMigration];
  const result = migrate(db, all);
  if (result.error) throw new Error(`migration failed: ${result.error.message}`);
  const tmpDir = join(dir, 'tmp');
  mkdirSync(tmpDir);
  const store = new DiskBlobStore(join(dir, 'blobs'));
  const clock = { now: new Date('2026-01-01T00:00:00.000Z') };
  const service = new BlobService({ db, store, tmpDir, uploadLimit: 5 * 1024 * 1024, now: () => clock.now, ...options });
  return {
    dir,
    db,
    store,
    tmpDir,
    service,
    clock,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
