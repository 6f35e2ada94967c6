// Record validation throughput, the cost paid on every record write.
// Run: node --import tsx bench/lexicon.ts
// Baseline rows use @atproto/lexicon directly (jsonToLex + assertValidRecord on the same
// vendored documents) to show what the conversion and the extra checks cost on top.
import { fileURLToPath } from 'node:url';
import { Lexicons, jsonToLex } from '@atproto/lexicon';
import { LexiconSet } from '../src/lexicon/index.ts';
import { formatValidators } from '../src/syntax/index.ts';

const dir = fileURLToPath(new URL('../lexicons', import.meta.url));
let t = performance.now();
const set = LexiconSet.fromDirectory(dir).loadAll();
console.log(`LexiconSet.fromDirectory + loadAll: ${set.size} documents in ${(performance.now() - t).toFixed(0)} ms`);

const plain = { $type: 'app.bsky.feed.post', text: 'Hello from Squall, a small PDS.', createdAt: '2024-05-01T12:34:56.789Z', langs: ['en'] };
const rich = {
  $type: 'app.bsky.feed.post',
  text: 'Look at this, @alice.test: https://example.com/some/long/path #atproto',
  createdAt: '2024-05-01T12:34:56.789Z',
  langs: ['en', 'pt-BR'],
  facets: [
    { index: { byteStart: 14, byteEnd: 25 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:7iza6de2dwap2sbkpav7c6c6' }] },
    { index: { byteStart: 27, byteEnd: 59 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/some/long/path' }] },
    { index: { byteStart: 60, byteEnd: 68 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'atproto' }] },
  ],
  embed: {
    $type: 'app.bsky.embed.images',
    images: [
      {
        image: { $type: 'blob', ref: { $link: 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }, mimeType: 'image/jpeg', size: 345678 },
        alt: 'a photo of a cat on a keyboard',
        aspectRatio: { width: 1200, height: 800 },
      },
    ],
  },
};

function bench(name: string, fn: () => unknown, ms = 1500): void {
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    now = performance.now();
  }
  const opsPerSec = (n / (now - start)) * 1000;
  console.log(`${name.padEnd(72)} ${Math.round(opsPerSec).toLocaleString('en-US').padStart(10)} ops/s  ${((1e3 / opsPerSec) * 1e3).toFixed(1).padStart(6)} µs`);
}

for (const [name, rec] of [['plain post', plain], ['post with 3 facets + image embed', rich]] as const) {
  const res = set.validateRecord('app.bsky.feed.post', rec);
  if (!res.success) throw new Error(`${name} does not validate: ${res.message}`);
  bench(`validateRecord: ${name}`, () => set.validateRecord('app.bsky.feed.post', rec));
}

const lib = new Lexicons();
for (const id of set.ids()) lib.add(structuredClone(set.getDoc(id)) as never);
for (const [name, rec] of [['plain post', plain], ['post with 3 facets + image embed', rich]] as const) {
  bench(`baseline @atproto/lexicon, jsonToLex + assert: ${name}`, () => lib.assertValidRecord('app.bsky.feed.post', jsonToLex(rec as never)));
}

const at = 'at://did:plc:7iza6de2dwap2sbkpav7c6c6/app.bsky.feed.post/3jzfcijpj2z2a';
bench('formatValidators["at-uri"] (one valid at-uri)', () => formatValidators['at-uri'](at), 500);
bench('formatValidators.datetime (one valid datetime)', () => formatValidators.datetime('2024-05-01T12:34:56.789Z'), 500);
