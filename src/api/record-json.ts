import { writeCborAsJson } from '../ipld/cbor-json.ts';
import { JsonWriter } from '../ipld/json-writer.ts';
import type { StoredRecord } from '../repo/repo-service.ts';
import { EncodedJsonOutput } from '../xrpc/index.ts';

/**
 * getRecord's and listRecords' answers, written from the stored blocks straight into the JSON body
 * (`{uri, cid, value}`, the value transcoded from DAG-CBOR; see ipld/cbor-json.ts).
 */
export function recordJson(record: StoredRecord): EncodedJsonOutput {
  const out = new JsonWriter(sizeHint(record));
  writeRecord(out, record);
  return new EncodedJsonOutput(out.result());
}

/** `{records: [...], cursor?}` */
export function recordPageJson(page: { records: StoredRecord[]; cursor?: string }): EncodedJsonOutput {
  let size = 64;
  for (const record of page.records) size += sizeHint(record);
  const out = new JsonWriter(size);
  out.raw('{"records":[');
  page.records.forEach((record, i) => {
    if (i > 0) out.byte(0x2c);
    writeRecord(out, record);
  });
  out.byte(0x5d);
  if (page.cursor !== undefined) {
    out.raw(',"cursor":');
    out.string(page.cursor);
  }
  out.byte(0x7d);
  return new EncodedJsonOutput(out.result());
}

/** Room for a record's JSON at once, most of the time: its text is rarely twice its CBOR. */
function sizeHint(record: StoredRecord): number {
  return record.bytes.length * 2 + 256;
}

function writeRecord(out: JsonWriter, record: StoredRecord): void {
  out.raw('{"uri":');
  out.string(record.uri);
  out.raw(',"cid":');
  out.string(record.cid);
  out.raw(',"value":');
  writeCborAsJson(record.bytes, out);
  out.byte(0x7d);
}
