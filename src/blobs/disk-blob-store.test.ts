import assert from 'node:assert/strict';
import { hash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CODEC_RAW, fromDigest, toString } from '@atcute/cid';
import { runBlobStoreConformance } from './blob-store.conformance.ts';
import { DiskBlobStore } from './disk-blob-store.ts';

function tempDir(base = tmpdir()): string {
  return mkdtempSync(join(base, 'squall-'));
}

runBlobStoreConformance('DiskBlobStore', async () => {
  const dir = tempDir();
  const tmp = join(dir, 'tmp');
  const store = new DiskBlobStore(join(dir, 'blobs'));
  mkdirSync(tmp);
  return { store, tmpDir: tmp, close: async () => rmSync(dir, { recursive: true, force: true }) };
});

const cidOf = (bytes: Uint8Array) => toString(fromDigest(CODEC_RAW, hash('sha256', bytes, 'buffer')));

describe('DiskBlobStore layout', () => {
  it('files a blob under its account and a shard of digest characters', () => {
    const store = new DiskBlobStore('/srv/blobs');
    const cid = 'bafkreibjfgx2gprinfvicegelk5kosd6y2frmqpqzwqkg7usac74l3t2v4';
    assert.equal(store.pathOf('did:plc:abc123', cid), `/srv/blobs/did%3Aplc%3Aabc123/2v/${cid}`);
    assert.equal(store.pathOf('did:web:a.example%3A8080', cid), `/srv/blobs/did%3Aweb%3Aa.example%253A8080/2v/${cid}`);
  });

  it('names the folder of a DID too long for a file name by its start and a hash', async () => {
    const dir = tempDir();
    try {
      const store = new DiskBlobStore(join(dir, 'blobs'));
      const did = `did:web:${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.example`;
      const other = `${did.slice(0, -'example'.length)}example2`;
      const bytes = randomBytes(10);
      const file = join(dir, 'upload');
      writeFileSync(file, bytes);
      await store.putFile(did, cidOf(bytes), file);
      assert.equal(await store.exists(did, cidOf(bytes)), true);
      assert.equal(await store.exists(other, cidOf(bytes)), false);
      const [name] = readdirSync(join(dir, 'blobs'));
      assert.ok(name.length < 255 && name.includes('~'), name);
      await store.deleteAll(did);
      assert.deepEqual(readdirSync(join(dir, 'blobs')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('spreads one account over many shard directories instead of one folder', async () => {
    const dir = tempDir();
    try {
      const store = new DiskBlobStore(join(dir, 'blobs'));
      for (let i = 0; i < 64; i++) {
        const bytes = randomBytes(16);
        const file = join(dir, `t${i}`);
        writeFileSync(file, bytes);
        await store.putFile('did:plc:abc', cidOf(bytes), file);
      }
      const shards = readdirSync(join(dir, 'blobs', 'did%3Aplc%3Aabc'));
      // 64 random digests over 1,024 shards land in about 62 distinct directories.
      assert.ok(shards.length > 48, `only ${shards.length} shards used`);
      assert.ok(shards.every((s) => /^[a-z2-7]{2}$/.test(s)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('moves a file across filesystems by copying it in whole', { skip: !existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(tmpdir()).dev }, async () => {
    const dir = tempDir();
    const shm = tempDir('/dev/shm');
    try {
      const store = new DiskBlobStore(join(dir, 'blobs'));
      const bytes = randomBytes(100_000);
      const file = join(shm, 'upload');
      writeFileSync(file, bytes);
      const cid = cidOf(bytes);
      await store.putFile('did:plc:abc', cid, file);
      assert.equal(existsSync(file), false);
      const found = await store.get('did:plc:abc', cid);
      assert.ok(found);
      const parts: Buffer[] = [];
      for await (const chunk of found.stream) parts.push(chunk as Buffer);
      assert.ok(Buffer.concat(parts).equals(bytes));
      const shard = join(dir, 'blobs', 'did%3Aplc%3Aabc', cid.slice(-3, -1));
      assert.deepEqual(readdirSync(shard), [cid], 'no partial copy left beside the blob');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(shm, { recursive: true, force: true });
    }
  });

  it('keeps serving a download that started before the blob was deleted', async () => {
    const dir = tempDir();
    try {
      const store = new DiskBlobStore(join(dir, 'blobs'));
      const bytes = randomBytes(2 * 1024 * 1024);
      const file = join(dir, 'upload');
      writeFileSync(file, bytes);
      const cid = cidOf(bytes);
      await store.putFile('did:plc:abc', cid, file);
      const found = await store.get('did:plc:abc', cid);
      assert.ok(found);
      await store.delete('did:plc:abc', cid);
      const parts: Buffer[] = [];
      for await (const chunk of found.stream) parts.push(chunk as Buffer);
      assert.ok(Buffer.concat(parts).equals(bytes));
      assert.equal(await store.exists('did:plc:abc', cid), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
