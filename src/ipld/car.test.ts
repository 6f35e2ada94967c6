import assert from 'node:assert/strict';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { BlockMap, blocksToCarFile, readCarWithRoot as refReadCarWithRoot } from '@atproto/repo';
import { carBytes, carBytesSync, CarError, encodeCarHeader, readCar, readCarWithRoot, writeCar, type CarBlock } from './car.ts';
import { encodeCbor } from './cbor.ts';
import { cidForCbor, cidForRaw, cidToString, parseCid, type Cid } from './cid.ts';

function makeBlocks(n: number, size = 100): CarBlock[] {
  const out: CarBlock[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = encodeCbor({ i, pad: 'x'.repeat(size + (i % 17)) });
    out.push({ cid: cidForCbor(bytes), bytes });
  }
  return out;
}

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of gen) chunks.push(c);
  return Buffer.concat(chunks);
}

async function readAll(source: Parameters<typeof readCar>[0], limits?: Parameters<typeof readCar>[1]) {
  const { roots, blocks } = await readCar(source, limits);
  const out: CarBlock[] = [];
  for await (const b of blocks) out.push(b);
  return { roots, blocks: out };
}

function* chunked(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function* asyncChunks(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let pos = 0;
  for (let i = 0; pos < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.slice(pos, pos + n);
    pos += n;
  }
}

const varint = (n: number) => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
};
const cat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const section = (cidBytes: Uint8Array, data: Uint8Array) => cat(varint(cidBytes.length + data.length), cidBytes, data);

const blocks = makeBlocks(50);
const root = blocks[0].cid;

describe('writeCar and readCar', () => {
  it('round-trip roots and blocks in order, from one buffer', async () => {
    const car = await carBytes(root, blocks);
    const read = await readAll(car);
    assert.deepEqual(read.roots.map(cidToString), [cidToString(root)]);
    assert.deepEqual(read.blocks.map((b) => cidToString(b.cid)), blocks.map((b) => cidToString(b.cid)));
    assert.deepEqual(read.blocks.map((b) => Buffer.from(b.bytes)), blocks.map((b) => Buffer.from(b.bytes)));
  });

  it('produce the same bytes from sync and async block sources and from the sync writer', async () => {
    async function* gen() {
      for (const b of blocks) yield b;
    }
    const a = await collect(writeCar(root, blocks));
    const b = await collect(writeCar(root, gen()));
    assert.deepEqual(a, b);
    assert.deepEqual(Buffer.from(carBytesSync(root, blocks)), Buffer.from(a));
    assert.deepEqual(Buffer.from(await carBytes(root, gen())), Buffer.from(a));
  });

  for (const sizes of [[1], [7], [3, 1, 40], [1000], [65536]]) {
    it(`read a CAR arriving in chunks of ${sizes.join(', ')} bytes`, async () => {
      const car = await carBytes(root, blocks);
      const read = await readAll(asyncChunks(car, sizes));
      assert.equal(read.blocks.length, blocks.length);
      assert.deepEqual(read.blocks.map((b) => cidToString(b.cid)), blocks.map((b) => cidToString(b.cid)));
    });
  }

  it('read a CAR from a synchronous iterable of chunks', async () => {
    const car = await carBytes(root, blocks);
    assert.equal((await readAll(chunked(car, 333))).blocks.length, blocks.length);
  });

  it('write an empty roots list for a null root and read it back', async () => {
    const car = await carBytes(null, blocks.slice(0, 2));
    const read = await readAll(car);
    assert.deepEqual(read.roots, []);
    assert.equal(read.blocks.length, 2);
  });

  it('read a CAR with a header and no blocks', async () => {
    const read = await readAll(encodeCarHeader([root]));
    assert.equal(read.blocks.length, 0);
  });

  it('stream in bounded chunks and pass blocks larger than a chunk through uncopied', async () => {
    const big = new Uint8Array(200_000).fill(7);
    const bigBlock = { cid: cidForRaw(big), bytes: big };
    const chunks: Uint8Array[] = [];
    for await (const c of writeCar(root, [...makeBlocks(2000), bigBlock, ...blocks])) chunks.push(c);
    assert.ok(chunks.length > 5);
    assert.ok(chunks.includes(big), 'the big block is yielded as is');
    for (const c of chunks) if (c !== big) assert.ok(c.length <= 64 * 1024);
    const read = await readAll(Buffer.concat(chunks), { maxBlockBytes: 300_000 });
    assert.equal(read.blocks.length, 2000 + 1 + blocks.length);
    assert.deepEqual(Buffer.from(read.blocks[2000].bytes), Buffer.from(big));
  });

  it('keep an empty block (the CID of zero bytes)', async () => {
    const empty = { cid: cidForRaw(new Uint8Array(0)), bytes: new Uint8Array(0) };
    const read = await readAll(await carBytes(empty.cid, [empty]));
    assert.equal(read.blocks[0].bytes.length, 0);
  });

  it('stream through a file with Node streams in both directions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'squall-'));
    try {
      const file = join(dir, 'repo.car');
      await pipeline(Readable.from(writeCar(root, makeBlocks(3000))), createWriteStream(file));
      const { root: r, blocks: map } = await readCarWithRoot(createReadStream(file, { highWaterMark: 4096 }));
      assert.equal(cidToString(r), cidToString(root));
      assert.equal(map.size, 3000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close the source when the reader stops early', async () => {
    const car = await carBytes(root, blocks);
    let closed = false;
    async function* source() {
      try {
        yield* chunked(car, 100);
      } finally {
        closed = true;
      }
    }
    const { blocks: gen } = await readCar(source());
    for await (const _ of gen) break;
    assert.ok(closed);
  });
});

describe('readCarWithRoot', () => {
  it('returns the root and a map of every block', async () => {
    const { root: r, blocks: map } = await readCarWithRoot(await carBytes(root, [...blocks, blocks[3]]));
    assert.equal(cidToString(r), cidToString(root));
    assert.equal(map.size, blocks.length);
    assert.deepEqual(Buffer.from(map.get(cidToString(blocks[7].cid))!), Buffer.from(blocks[7].bytes));
  });

  it('rejects a CAR without exactly one root', async () => {
    await assert.rejects(readCarWithRoot(await carBytes(null, blocks)), CarError);
    const header = encodeCbor({ version: 1, roots: [{ $link: cidToString(root) }, { $link: cidToString(blocks[1].cid) }] });
    await assert.rejects(readCarWithRoot(cat(varint(header.length), header)), /exactly one root/);
  });
});

describe('differential check against @atproto/repo', () => {
  it('@atproto/repo reads a CAR we wrote, block for block', async () => {
    const car = await carBytes(root, blocks);
    const theirs = await refReadCarWithRoot(car);
    assert.equal(theirs.root.toString(), cidToString(root));
    assert.equal(theirs.blocks.size, blocks.length);
    for (const b of blocks) {
      assert.deepEqual(Buffer.from(theirs.blocks.get(theirKey(theirs.blocks, b.cid))!), Buffer.from(b.bytes));
    }
  });

  it('we read a CAR @atproto/repo wrote, and write the same bytes for the same blocks', async () => {
    const map = new BlockMap();
    let theirRoot: unknown;
    for (let i = 0; i < 40; i++) {
      const cid = await map.add({ i, text: `record ${i}`, nested: { list: [i, i + 1] } });
      theirRoot ??= cid;
    }
    const car = await blocksToCarFile(theirRoot as never, map);
    const ours = await readCarWithRoot(chunked(car, 100));
    assert.equal(cidToString(ours.root), String(theirRoot));
    assert.equal(ours.blocks.size, 40);
    const again = carBytesSync(ours.root, [...ours.blocks].map(([cid, bytes]) => ({ cid: parseCid(cid), bytes })));
    assert.deepEqual(Buffer.from(again), Buffer.from(car));
  });
});

describe('differential check against @atproto/repo without a root', () => {
  it('we read the rootless CAR @atproto/repo writes for getBlocks', async () => {
    const map = new BlockMap();
    await map.add({ a: 1 });
    const read = await readAll(await blocksToCarFile(null, map));
    assert.deepEqual(read.roots, []);
    assert.equal(read.blocks.length, 1);
  });
});

// BlockMap keys are their CID class; find the entry whose string form matches ours.
function theirKey(map: BlockMap, cid: Cid): Parameters<BlockMap['get']>[0] {
  for (const key of map.keys()) if (key.toString() === cidToString(cid)) return key;
  throw new Error(`block ${cidToString(cid)} missing`);
}

describe('malformed CARs', () => {
  const header = encodeCarHeader([root]);
  const good = section(blocks[0].cid.bytes, blocks[0].bytes);
  const headerOf = (value: unknown) => {
    const h = encodeCbor(value);
    return cat(varint(h.length), h);
  };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty input', new Uint8Array(0), /empty/],
    ['a header length of zero', Uint8Array.of(0), /header is empty/],
    ['a header longer than 64 KiB', varint(70_000), /header of 70000 bytes/],
    ['a truncated header', cat(varint(50), new Uint8Array(10)), /truncated inside a header/],
    ['a header that is not CBOR', cat(varint(2), Uint8Array.of(0xff, 0xff)), /not valid DAG-CBOR/],
    ['a header that is not a map', headerOf([1]), /must be a map/],
    ['a CARv2 header', headerOf({ version: 2, roots: [] }), /version 2/],
    ['a header without a version', headerOf({ roots: [] }), /version/],
    ['a header whose roots are not an array', headerOf({ version: 1, roots: 'x' }), /roots must be an array/],
    ['a header whose roots are strings', headerOf({ version: 1, roots: [cidToString(root)] }), /CID links/],
    ['a header with an unknown key', headerOf({ version: 1, roots: [], extra: 1 }), /unexpected key/],
    ['a truncated block', cat(header, good.subarray(0, good.length - 5)), /truncated inside a block/],
    ['a truncated section varint', cat(header, Uint8Array.of(0x80)), /truncated inside a section length varint/],
    ['a non-minimal varint', cat(header, Uint8Array.of(0xa5, 0x00)), /not minimally encoded/],
    ['a varint longer than 8 bytes', cat(header, new Uint8Array(9).fill(0xff)), /longer than 8 bytes/],
    ['a section too short for a CID', cat(header, varint(10), new Uint8Array(10)), /too short to hold a CID/],
    ['a CIDv0 block', cat(header, section(Uint8Array.of(0x12, 0x20, ...blocks[0].cid.digest.contents), blocks[0].bytes.subarray(0, 10))), /CIDv0/],
    ['a dag-pb block', cat(header, section(Uint8Array.of(0x01, 0x70, ...blocks[0].cid.bytes.subarray(2)), blocks[0].bytes)), /codec 0x70/],
    ['a CIDv2 block', cat(header, section(Uint8Array.of(0x02, ...blocks[0].cid.bytes.subarray(1)), blocks[0].bytes)), /version 2/],
    ['a non-sha256 block', cat(header, section(Uint8Array.of(0x01, 0x71, 0x13, 0x20, ...blocks[0].cid.digest.contents), blocks[0].bytes)), /sha2-256/],
    ['a block whose bytes do not match its CID', cat(header, section(blocks[0].cid.bytes, blocks[1].bytes)), /does not match its CID/],
    ['a declared block length of 2^50', cat(header, varint(2 ** 50)), /larger than the limit/],
  ];
  for (const [name, input, message] of cases) {
    it(`rejects ${name} with a CarError`, async () => {
      await assert.rejects(readAll(input), (err: Error) => err instanceof CarError && message.test(err.message));
      await assert.rejects(readAll(chunked(input, 3)), (err: Error) => err instanceof CarError && message.test(err.message));
    });
  }

  it('rejects a block over maxBlockBytes before buffering it', async () => {
    const car = await carBytes(root, blocks);
    await assert.rejects(readAll(car, { maxBlockBytes: 50 }), /larger than the limit of 50/);
  });

  it('rejects more blocks than maxBlocks', async () => {
    const car = await carBytes(root, blocks);
    await assert.rejects(readAll(car, { maxBlocks: 10 }), /more than the limit of 10 blocks/);
    assert.equal((await readAll(car, { maxBlocks: blocks.length })).blocks.length, blocks.length);
  });

  it('rejects a CAR longer than maxTotalBytes', async () => {
    const car = await carBytes(root, blocks);
    await assert.rejects(readAll(car, { maxTotalBytes: car.length - 1 }), /larger than the limit/);
    assert.equal((await readAll(car, { maxTotalBytes: car.length })).blocks.length, blocks.length);
  });

  it('rejects a source that yields strings or is not iterable', async () => {
    async function* strings() {
      yield 'abc' as unknown as Uint8Array;
    }
    await assert.rejects(readAll(strings()), /other than bytes/);
    await assert.rejects(readAll(42 as never), /must be bytes or an iterable/);
  });

  it('rejects writing a block whose CID is not a 36-byte CIDv1', async () => {
    const bad = { cid: { ...root, bytes: root.bytes.subarray(0, 20) }, bytes: new Uint8Array(1) };
    assert.throws(() => carBytesSync(root, [bad]), CarError);
    await assert.rejects(collect(writeCar(root, [bad])), CarError);
  });

  it('never hangs or crashes on random garbage after a valid header', async () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 300; i++) {
      const junk = Uint8Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
      await assert.rejects(readAll(cat(header, junk)), CarError);
    }
  });
});
