import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCbor, encodeCbor } from '../ipld/cbor.ts';
import { cidForCbor, cidToString } from '../ipld/cid.ts';
import { dataToJson, jsonToData } from '../ipld/data-model.ts';
import { recordJson, recordPageJson } from './record-json.ts';

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const COLLECTION = 'app.bsky.feed.post';

/** A stored record and the object its answer must stringify as (keys in the block's order). */
function record(rkey: string, json: Record<string, unknown>) {
  const data = jsonToData(json);
  const bytes = encodeCbor(data).slice();
  const cid = cidToString(cidForCbor(bytes));
  return { stored: { rkey, cid, bytes }, answer: { uri: `at://${DID}/${COLLECTION}/${rkey}`, cid, value: dataToJson(decodeCbor(bytes)) } };
}

const RECORDS = [
  record('3jzfcijpj2z2a', { $type: COLLECTION, text: 'hello "world" \\ 🦋', createdAt: '2026-12-05T19:14:43.222Z' }),
  record('self', { $type: COLLECTION, text: 'café\nline', langs: ['fr'], createdAt: '2026-12-05T19:14:44.000Z' }),
  record('a:b~c.d-e_f', {
    $type: COLLECTION,
    text: '',
    embed: { $type: 'app.bsky.embed.record', record: { uri: `at://${DID}/${COLLECTION}/self`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' } },
    createdAt: '2026-12-05T19:14:45.000Z',
  }),
];

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

describe('record answers', () => {
  it('writes a page of records as its objects stringify, with and without a cursor', () => {
    for (const cursor of [undefined, 'a:b~c.d-e_f']) {
      for (let n = 0; n <= RECORDS.length; n++) {
        const page = RECORDS.slice(0, n);
        const body = recordPageJson({ did: DID, collection: COLLECTION, records: page.map((r) => r.stored), ...(cursor === undefined ? {} : { cursor }) });
        const records = page.map((r) => r.answer);
        assert.equal(text(body.bytes), JSON.stringify(cursor === undefined ? { records } : { records, cursor }));
      }
    }
  });

  it('writes one record as its object stringifies', () => {
    for (const { stored, answer } of RECORDS) {
      const body = recordJson({ uri: answer.uri, cid: stored.cid, bytes: stored.bytes });
      assert.equal(text(body.bytes), JSON.stringify(answer));
    }
  });
});
