// Lexicon definitions as they appear in the JSON documents, typed loosely: the documents are
// checked by validateLexiconDoc, and code here reads only the fields it needs.

export interface LexDef {
  type: string;
  description?: string;
  [field: string]: unknown;
}

export interface LexObjectDef extends LexDef {
  type: 'object';
  properties?: Record<string, LexDef>;
  required?: string[];
  nullable?: string[];
}

export interface LexArrayDef extends LexDef {
  type: 'array';
  items: LexDef;
  minLength?: number;
  maxLength?: number;
}

export interface LexRefDef extends LexDef {
  type: 'ref';
  ref: string;
}

export interface LexUnionDef extends LexDef {
  type: 'union';
  refs: string[];
  closed?: boolean;
}

export interface LexBlobDef extends LexDef {
  type: 'blob';
  accept?: string[];
  maxSize?: number;
}

export interface LexStringDef extends LexDef {
  type: 'string';
  format?: string;
}

export interface LexRecordDef extends LexDef {
  type: 'record';
  key: string;
  record: LexObjectDef;
}

/** A Lexicon `params` definition (query parameters of a method). */
export interface LexParamsDef {
  type: 'params';
  required?: string[];
  properties?: Record<string, any>;
}

export interface LexBody {
  encoding: string;
  description?: string;
  schema?: LexDef;
}

export interface LexMethodDef extends LexDef {
  type: 'query' | 'procedure' | 'subscription';
  parameters?: LexParamsDef;
  input?: LexBody;
  output?: LexBody;
  message?: { description?: string; schema: LexDef };
  errors?: Array<{ name: string; description?: string }>;
}

export interface LexiconDocument {
  lexicon: 1;
  id: string;
  revision?: number;
  description?: string;
  defs: Record<string, LexDef>;
}

export type MethodKind = 'query' | 'procedure' | 'subscription';

/** What the XRPC layer needs to know of a method: the raw definitions from its document. */
export interface MethodSchema {
  kind: MethodKind;
  params?: LexParamsDef;
  input?: LexBody;
  output?: LexBody;
  /** Subscriptions only: the union of message types. */
  message?: { description?: string; schema: LexDef };
  /** Names of the errors the method declares. */
  errors: string[];
}

/** How a record type names its records: `tid`, `nsid`, `any` or `literal:<key>`. */
export type RecordKeyType = 'tid' | 'nsid' | 'any' | `literal:${string}`;

export type ValidationResult<T = unknown> = { success: true; value: T } | { success: false; message: string };

/** A blob reference found in a record, with the constraints of the field that holds it. */
export interface BlobField {
  /** Where the ref sits in the record, as slash-separated keys and indexes (`embed/images/0/image`). */
  path: string;
  /** The blob's CID string. */
  cid: string;
  /** The MIME type the record declares; the blob code compares it with the sniffed one. */
  mimeType: string;
  /** The size the record declares; undefined for a legacy `{cid, mimeType}` ref, which has none. */
  size: number | undefined;
  /** The field's `accept` list, when the schema declares the field and the list. */
  accept?: readonly string[];
  /** The field's `maxSize`, when the schema declares the field and the limit. */
  maxSize?: number;
}

export type RecordValidationResult =
  | { success: true; value: unknown; blobs: BlobField[] }
  | { success: false; message: string };
