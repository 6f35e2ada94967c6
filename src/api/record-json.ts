import { writeCborAsJson } from '../ipld/cbor-json.ts';
import { jsonBytes, JsonWriter } from '../ipld/json-writer.ts';
import type { RecordPage, StoredRecord } from '../repo/repo-service.ts';
import { EncodedJsonOutput } from '../xrpc/index.ts';

/**
 * getRecord's and listRecords' answers, written from the stored blocks straight into the JSON body
 * (`{uri, cid, value}`, the value transcoded from DAG-CBOR; see ipld/cbor-json.ts).
 */
export function recordJson(record: StoredRecord): EncodedJsonOutput {
  const out = new JsonWriter(sizeHint(record));
  out.bytes(URI);
  out.string(record.uri);
  writeCidAndValue(out, record);
  return new EncodedJsonOutput(out.result());
}

/**
 * `{records: [...], cursor?}`. Every URI of a page starts with the same `at://<did>/<collection>/`:
 * it is encoded once, and each record adds its key.
 */
export function recordPageJson(page: RecordPage): EncodedJsonOutput {
  let size = 64;
  for (const record of page.records) size += sizeHint(record);
  const out = new JsonWriter(size);
  out.bytes(RECORDS);
  // `{"uri":"at://<did>/<collection>/`, the literal left open for the record key
  const start = jsonBytes(`{"uri":${JSON.stringify(`at://${page.did}/${page.collection}/`).slice(0, -1)}`);
  page.records.forEach((record, i) => {
    if (i > 0) out.byte(COMMA);
    out.bytes(start);
    out.stringContent(record.rkey);
    out.byte(QUOTE);
    writeCidAndValue(out, record);
  });
  out.byte(CLOSE_ARRAY);
  if (page.cursor !== undefined) {
    out.bytes(CURSOR);
    out.string(page.cursor);
  }
  out.byte(CLOSE_OBJECT);
  return new EncodedJsonOutput(out.result());
}

/** Room for a record's JSON at once, most of the time: its text is rarely twice its CBOR. */
function sizeHint(record: { bytes: Uint8Array }): number {
  return record.bytes.length * 2 + 256;
}

/** `,"cid":...,"value":...}`, after a record's URI. */
function writeCidAndValue(out: JsonWriter, record: { cid: string; bytes: Uint8Array }): void {
  out.bytes(CID);
  out.string(record.cid);
  out.bytes(VALUE);
  writeCborAsJson(record.bytes, out);
  out.byte(CLOSE_OBJECT);
}

const RECORDS = jsonBytes('{"records":[');
const URI = jsonBytes('{"uri":');
const CID = jsonBytes(',"cid":');
const VALUE = jsonBytes(',"value":');
const CURSOR = jsonBytes(',"cursor":');
const QUOTE = 0x22;
const COMMA = 0x2c;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;
