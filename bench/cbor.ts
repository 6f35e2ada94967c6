// DAG-CBOR, data-model and CAR throughput: every record write encodes and hashes, every read of a
// repo decodes, exports and imports stream CARs. Run: node --import tsx bench/cbor.ts
// Baselines in the same process: raw @atcute/cbor and @atcute/car (what we wrap; the difference is
// the cost of our extra strictness: float scan, CID verification, limits) and @atproto/repo, the
// reference implementation's helpers. Candidates run in interleaved rounds; medians are shown.
import { fromUint8Array as atcuteReadCar, writeCarStream as atcuteWriteCar } from '@atcute/car';
import { decode as atcuteDecode, encode as atcuteEncode } from '@atcute/cbor';
import { BlockMap, blocksToCarFile, cborToLex, cidForRecord, readCarWithRoot as refReadCarWithRoot } from '@atproto/repo';
import { hash } from 'node:crypto';
import { carBytes, carBytesSync, readCar, readCarWithRoot, writeCar, type CarBlock } from '../src/ipld/car.ts';
import { decodeCbor, encodeCbor, toBytes } from '../src/ipld/cbor.ts';
import { cidForCbor, cidToString, parseCid, toLink } from '../src/ipld/cid.ts';
import { findBlobRefs, jsonToData } from '../src/ipld/data-model.ts';
import { compareOps } from './lib/compare.ts';
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';



const IMAGE = 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
const STRONG = 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a';
// An app.bsky.feed.post with facets, a quote and an image: about 900 bytes of DAG-CBOR.
const postJson = JSON.parse(
  JSON.stringify({
    $type: 'app.bsky.feed.post',
    text: 'Look at this, @alice.test: https://example.com/some/long/path #atproto — and a quote 🌧️',
    createdAt: '2024-05-01T12:34:56.789Z',
    langs: ['en', 'pt-BR'],
    facets: [
      { index: { byteStart: 14, byteEnd: 25 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:7iza6de2dwap2sbkpav7c6c6' }] },
      { index: { byteStart: 27, byteEnd: 59 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/some/long/path' }] },
      { index: { byteStart: 60, byteEnd: 68 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'atproto' }] },
    ],
    embed: {
      $type: 'app.bsky.embed.recordWithMedia',
      record: { $type: 'app.bsky.embed.record', record: { uri: 'at://did:plc:7iza6de2dwap2sbkpav7c6c6/app.bsky.feed.post/3kq2ulyzmgk2a', cid: STRONG } },
      media: {
        $type: 'app.bsky.embed.images',
        images: [{ alt: 'a cloud', aspectRatio: { width: 1200, height: 800 }, image: { $type: 'blob', ref: { $link: IMAGE }, mimeType: 'image/jpeg', size: 345678 } }],
      },
    },
  }),
);
const post = jsonToData(postJson);
const postBytes = encodeCbor(post);
// An MST node of 16 entries, as the repo engine holds them: byte and CID wrappers (the JSON-form
// `{ $bytes }` / `{ $link }` objects encode the same bytes but pay base64/base32 parsing each time).
const strong = toLink(parseCid(STRONG));
const image = toLink(parseCid(IMAGE));
const mstNode = {
  l: strong,
  e: Array.from({ length: 16 }, (_, i) => ({
    k: toBytes(Buffer.from(i === 0 ? 'app.bsky.feed.post/3kq2ulyzmgk2a' : `mgk${i.toString(36).padStart(2, '0')}`)),
    p: i === 0 ? 0 : 16,
    t: i % 3 === 0 ? strong : null,
    v: image,
  })),
};
const mstNodeJson = JSON.parse(JSON.stringify(mstNode));
const mstBytes = encodeCbor(mstNode);
const postLex = cborToLex(postBytes);
const block200 = encodeCbor({ text: 'x'.repeat(180) });

const rows: Array<Array<string | undefined>> = [];
/** One table row; `scale` turns CARs/s into MB/s for the CAR rows. */
const row = (label: string, r: Record<string, number | undefined>, scale = 1) => {
  const ours = r.ours!;
  const f = (v: number | undefined) => (v === undefined ? '-' : formatNumber(v * scale, scale === 1 ? 0 : 1));
  rows.push([label, f(ours), f(r.atcute), f(r.ref), r.atcute ? formatRatio(ours / r.atcute) : '-', r.ref ? formatRatio(ours / r.ref) : '-']);
};

row(`encode post (${postBytes.length} B)`, await compareOps({ ours: () => encodeCbor(post), atcute: () => atcuteEncode(post) }));
row(`decode post`, await compareOps({ ours: () => decodeCbor(postBytes), atcute: () => atcuteDecode(postBytes), ref: () => cborToLex(postBytes) }));
row(`encode MST node (${mstBytes.length} B)`, await compareOps({ ours: () => encodeCbor(mstNode), atcute: () => atcuteEncode(mstNode) }));
row(`encode MST node given in JSON form`, await compareOps({ ours: () => encodeCbor(mstNodeJson), atcute: () => atcuteEncode(mstNodeJson) }));
row(`decode MST node`, await compareOps({ ours: () => decodeCbor(mstBytes), atcute: () => atcuteDecode(mstBytes), ref: () => cborToLex(mstBytes) }));
row(`encode + CID of post`, await compareOps({ ours: () => cidForCbor(encodeCbor(post)), ref: () => cidForRecord(postLex) }));
row(`CID of a 200-byte block`, await compareOps({ ours: () => cidForCbor(block200) }));
row(`jsonToData(post) (validate JSON)`, await compareOps({ ours: () => jsonToData(postJson) }));
row(`findBlobRefs(post)`, await compareOps({ ours: () => findBlobRefs(post) }));
row(`parseCid`, await compareOps({ ours: () => parseCid(STRONG) }));

// CAR: 10,000 record-sized blocks, about 2.3 MB.
const blocks: CarBlock[] = [];
for (let i = 0; i < 10_000; i++) {
  const bytes = encodeCbor({ ...(post as object), createdAt: `2024-05-01T12:34:${String(i % 60).padStart(2, '0')}.${i}Z` });
  blocks.push({ cid: cidForCbor(bytes), bytes });
}
const root = blocks[0].cid;
const car = carBytesSync(root, blocks);
const mb = car.length / 1e6;
const refMap = new BlockMap();
for (const [cid, bytes] of (await refReadCarWithRoot(car)).blocks) refMap.set(cid, bytes);
const refRoot = (await refReadCarWithRoot(car)).root;
async function drain(gen: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of gen);
}
function* chunks64k(bytes: Uint8Array) {
  for (let i = 0; i < bytes.length; i += 65536) yield bytes.subarray(i, i + 65536);
}
const carRounds = { roundMs: 400, rounds: 3 };
const atcuteBlocks = blocks.map((b) => ({ cid: b.cid.bytes, data: b.bytes }));
row(
  `CAR write, streamed, MB/s (${mb.toFixed(1)} MB, 10k blocks)`,
  await compareOps(
    {
      ours: () => drain(writeCar(root, blocks)),
      atcute: () => drain(atcuteWriteCar([{ $link: cidToString(root) }], atcuteBlocks)),
      ref: () => blocksToCarFile(refRoot, refMap),
    },
    carRounds,
  ),
  mb,
);
row(`CAR write into one buffer (carBytes), MB/s`, await compareOps({ ours: () => carBytes(root, blocks) }, carRounds), mb);
row(
  `CAR read + verify every CID, MB/s`,
  await compareOps(
    {
      ours: () => readCarWithRoot(car),
      atcute: () => {
        const map = new Map<string, Uint8Array>();
        for (const e of atcuteReadCar(car)) {
          if (!Buffer.from(hash('sha256', e.bytes, 'buffer')).equals(e.cid.digest.contents)) throw new Error('mismatch');
          map.set(cidToString(e.cid), e.bytes);
        }
        return map;
      },
      ref: () => refReadCarWithRoot(car),
    },
    carRounds,
  ),
  mb,
);
row(`CAR read + verify from 64 KiB chunks, MB/s`, await compareOps({ ours: async () => drain((await readCar(chunks64k(car))).blocks) }, carRounds), mb);

console.log(`Node ${process.version}; ops/s or MB/s, median of interleaved rounds.`);
console.log(markdownTable(['operation', 'Squall', '@atcute (raw)', '@atproto/repo', 'vs atcute', 'vs @atproto'], rows, [1, 2, 3, 4, 5]));
