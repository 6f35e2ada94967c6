// Blob hot paths against a raw disk copy on the same machine, same run, interleaved rounds:
//
//   upload: BlobService.upload from 64 KiB chunks (as a socket delivers them): stream to a temp
//           file with sha-256, sniff, fdatasync, rename into the store, fsync the directory, and
//           the metadata row (SQLite, synchronous=FULL);
//   raw write: the same bytes written in 1 MiB writes, fdatasync, rename, fsync the directory:
//           the least a durable copy can cost;
//   read:   DiskBlobStore.get streamed to the end, against fs.createReadStream with its defaults;
//   memory: heap growth while one large blob streams in, which must not depend on its size.
//
// Run: node --import tsx src/blobs/blob-bench.ts [--size-mb 8] [--count 12] [--rounds 3] [--big-mb 256]
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobFixture, chunksOf, pngOfSize } from './test-fixture.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const SIZE = flag('size-mb', 8) * 1024 * 1024;
const COUNT = flag('count', 12);
const ROUNDS = flag('rounds', 3);
const BIG = flag('big-mb', 256) * 1024 * 1024;

const mbps = (bytes: number, ms: number) => bytes / 1024 / 1024 / (ms / 1000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function rawWrite(dir: string, bytes: Buffer, i: number): Promise<void> {
  const tmp = join(dir, `tmp-${i}`);
  const handle = await open(tmp, 'wx');
  for (let off = 0; off < bytes.length; off += 1024 * 1024) await handle.write(bytes.subarray(off, off + 1024 * 1024));
  await handle.datasync();
  await handle.close();
  await rename(tmp, join(dir, `blob-${i}`));
  const d = await open(dir, 'r');
  await d.sync();
  await d.close();
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

async function main(): Promise<void> {
  const fx = blobFixture({ uploadLimit: Math.max(SIZE, BIG) + 1 });
  const rawDir = mkdtempSync(join(tmpdir(), 'squall-raw-'));
  const did = 'did:plc:benchbenchbenchbenchbenc';
  const results = { upload: [] as number[], raw: [] as number[], read: [] as number[], rawRead: [] as number[] };
  try {
    const blobs = Array.from({ length: COUNT }, (_, i) => Buffer.concat([pngOfSize(100, i), randomBytes(SIZE - 100)]));
    const cids: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // New bytes every round: an upload of bytes the account already has skips the store.
      for (const bytes of blobs) bytes.writeUInt32BE(round, 100);
      // Alternate which side goes first so drifting background load hits both.
      const order = round % 2 === 0 ? ['upload', 'raw'] : ['raw', 'upload'];
      for (const side of order) {
        const started = performance.now();
        if (side === 'upload') {
          for (const bytes of blobs) {
            const ref = await fx.service.upload(did, chunksOf(bytes), 'image/png');
            if (round === 0) cids.push(ref.ref.$link);
          }
          results.upload.push(mbps(SIZE * COUNT, performance.now() - started));
        } else {
          const dir = join(rawDir, `r${round}`);
          mkdirSync(dir);
          for (let i = 0; i < COUNT; i++) await rawWrite(dir, blobs[i], i);
          results.raw.push(mbps(SIZE * COUNT, performance.now() - started));
        }
      }
      let started = performance.now();
      for (const cid of cids) await drain((await fx.store.get(did, cid))!.stream);
      results.read.push(mbps(SIZE * COUNT, performance.now() - started));
      started = performance.now();
      for (let i = 0; i < COUNT; i++) await drain(createReadStream(join(rawDir, 'r0', `blob-${i}`)));
      results.rawRead.push(mbps(SIZE * COUNT, performance.now() - started));
    }

    // Memory: one large upload; heap sampled while it streams.
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = heapBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
    const chunk = randomBytes(64 * 1024);
    async function* big() {
      for (let sent = 0; sent < BIG; sent += chunk.length) yield chunk;
    }
    const started = performance.now();
    await fx.service.upload(did, big(), 'application/octet-stream');
    const bigMs = performance.now() - started;
    clearInterval(sampler);

    const up = median(results.upload);
    const raw = median(results.raw);
    console.log(`blob size ${SIZE / 1024 / 1024} MiB x ${COUNT}, ${ROUNDS} rounds (median MB/s)`);
    console.log(`| path | MB/s | vs raw |`);
    console.log(`|---|---:|---:|`);
    console.log(`| upload (BlobService) | ${up.toFixed(0)} | ${(up / raw).toFixed(2)}x |`);
    console.log(`| raw durable write | ${raw.toFixed(0)} | 1.00x |`);
    console.log(`| read (DiskBlobStore.get) | ${median(results.read).toFixed(0)} | ${(median(results.read) / median(results.rawRead)).toFixed(2)}x |`);
    console.log(`| raw read (createReadStream) | ${median(results.rawRead).toFixed(0)} | 1.00x |`);
    console.log(
      `one ${BIG / 1024 / 1024} MiB upload: ${mbps(BIG, bigMs).toFixed(0)} MB/s, heap peak +${((peak - heapBefore) / 1024 / 1024).toFixed(1)} MiB over its start${global.gc ? '' : ' (run with --expose-gc for a cleaner start)'}`,
    );
  } finally {
    fx.close();
    rmSync(rawDir, { recursive: true, force: true });
  }
}

await main();
