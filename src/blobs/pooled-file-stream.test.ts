import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { BufferPool } from './buffer-pool.ts';
import { PooledFileStream } from './pooled-file-stream.ts';

const dir = mkdtempSync(join(tmpdir(), 'squall-pooled-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(bytes: Uint8Array): string {
  const path = join(dir, `f-${randomBytes(4).toString('hex')}`);
  writeFileSync(path, bytes);
  return path;
}

/** Reads a stream to its end, copying each chunk and handing it back at once, as the HTTP pipe may. */
async function drain(stream: PooledFileStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    parts.push(Buffer.from(chunk));
    chunk.fill(0xee); // a recycled buffer is overwritten by the next read: copies must not change
    stream.recycle(chunk);
  }
  return Buffer.concat(parts);
}

describe('PooledFileStream', () => {
  test('reads a whole file and any inclusive range of it, reusing its buffers', async () => {
    const bytes = randomBytes(10_000);
    const path = fileOf(bytes);
    const pool = new BufferPool(1024, 4);
    assert.deepEqual(await drain(new PooledFileStream(await open(path), 0, bytes.length - 1, pool)), bytes);
    assert.ok(pool.free >= 1 && pool.free <= 4, `buffers came back (${pool.free})`);
    for (const [start, end] of [[0, 0], [1023, 1024], [5000, 9999], [9999, 9999], [100, 3171]]) {
      const got = await drain(new PooledFileStream(await open(path), start, end, pool));
      assert.deepEqual(got, bytes.subarray(start, end + 1), `range ${start}-${end}`);
    }
  });

  test('an empty range ends at once and closes the file', async () => {
    const handle = await open(fileOf(new Uint8Array(0)));
    const stream = new PooledFileStream(handle, 0, -1, new BufferPool(1024, 4));
    assert.equal((await drain(stream)).length, 0);
    if (!stream.closed) await once(stream, 'close');
    assert.equal(handle.fd, -1, 'descriptor closed');
  });

  test('a file shorter than the range asked for fails the stream instead of ending it short', async () => {
    const path = fileOf(randomBytes(4096));
    const handle = await open(path);
    truncateSync(path, 1500);
    const stream = new PooledFileStream(handle, 0, 4095, new BufferPool(1024, 4));
    await assert.rejects(drain(stream), /file ended at byte 1500, before the 4096 expected/);
    if (!stream.closed) await once(stream, 'close');
    assert.equal(handle.fd, -1);
  });

  test('destroyed midway, it closes the file', async () => {
    const handle = await open(fileOf(randomBytes(64 * 1024)));
    const stream = new PooledFileStream(handle, 0, 64 * 1024 - 1, new BufferPool(1024, 4));
    const [first] = (await once(stream, 'data')) as [Buffer];
    assert.equal(first.length, 1024);
    stream.destroy();
    await once(stream, 'close');
    assert.equal(handle.fd, -1);
  });
});
