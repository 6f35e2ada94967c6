import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type LexiconDoc, Lexicons } from '@atproto/lexicon';
import { describeBlobs, checkBlobConstraints } from './blobs.ts';
import { DefIndex, type LocatedDef } from './def-index.ts';
import { carryDefaults } from './defaults.ts';
import { validateLexiconDoc } from './doc.ts';
import { InvalidDataError, LexiconLoadError, formatPath } from './errors.ts';
import { type CheckFailure, type Checker, CheckCompiler } from './extra-checks.ts';
import { type FoundBlob, toLex } from './to-lex.ts';
import type {
  BlobField,
  LexDef,
  LexiconDocument,
  LexMethodDef,
  LexRecordDef,
  MethodSchema,
  RecordKeyType,
  RecordValidationResult,
  ValidationResult,
} from './types.ts';
import { resolveRef, walkDoc } from './walk.ts';

interface RecordEntry {
  keyType: RecordKeyType;
  root: LocatedDef;
  check: Checker | null;
}

interface BodyEntry {
  root: LocatedDef;
  check: Checker | null;
}

interface MethodEntry {
  schema: MethodSchema;
  input: BodyEntry | undefined;
  output: BodyEntry | undefined;
}

type Failure = { success: false; message: string };

const fail = (message: string): Failure => ({ success: false, message });

/** @atproto/lexicon writes refs in its internal `lex:` form; messages show them as written. */
const libraryFailure = (err: { message: string }): Failure => fail(err.message.replaceAll('lex:', ''));

/**
 * The Lexicon documents a server knows, loaded once at start. Validates records and XRPC
 * bodies with @atproto/lexicon, converting from this project's data model first, and adds
 * what that library gets wrong: string formats, `unknown` fields and blob `accept`/`maxSize`.
 */
export class LexiconSet {
  readonly #docs = new Map<string, LexiconDocument>();
  readonly #index = new DefIndex();
  readonly #lex = new Lexicons();
  readonly #records = new Map<string, RecordEntry>();
  readonly #methods = new Map<string, MethodEntry>();

  private constructor(docs: LexiconDocument[]) {
    for (const doc of docs) {
      this.#docs.set(doc.id, doc);
      this.#index.add(doc);
      this.#lex.add(libraryCopy(doc));
    }
    const compiler = new CheckCompiler(this.#index);
    for (const doc of docs) {
      const main = doc.defs.main;
      if (main?.type === 'record') {
        const uri = `${doc.id}#main`;
        const key = (main as LexRecordDef).key as RecordKeyType; // validateLexiconDoc requires a known key type
        this.#records.set(doc.id, { keyType: key, root: this.#index.resolve(uri, doc.id)!, check: compiler.named(uri) });
      } else if (main?.type === 'query' || main?.type === 'procedure' || main?.type === 'subscription') {
        this.#methods.set(doc.id, buildMethod(doc.id, main as LexMethodDef, compiler));
      }
    }
  }

  /**
   * Loads documents, checking each; throws LexiconLoadError listing every bad or duplicate one.
   * The set keeps the documents (getMethod hands out parts of them): do not modify them later.
   */
  static fromDocs(docs: Iterable<unknown>): LexiconSet {
    const valid: LexiconDocument[] = [];
    const problems: string[] = [];
    const seen = new Set<string>();
    let i = 0;
    for (const doc of docs) {
      const label = typeof (doc as { id?: unknown })?.id === 'string' ? (doc as { id: string }).id : `document ${i}`;
      i++;
      const result = validateLexiconDoc(doc);
      if (!result.success) problems.push(`${label}: ${result.message}`);
      else if (seen.has(result.value.id)) problems.push(`${label}: defined twice`);
      else {
        seen.add(result.value.id);
        valid.push(result.value);
      }
    }
    if (problems.length > 0) throw new LexiconLoadError(problems);
    return new LexiconSet(valid);
  }

  /** Loads every `*.json` file under `dir`, recursively. */
  static fromDirectory(dir: string): LexiconSet {
    const docs: unknown[] = [];
    const problems: string[] = [];
    for (const file of listJsonFiles(dir)) {
      try {
        docs.push(JSON.parse(readFileSync(file, 'utf8')));
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
      }
    }
    if (problems.length > 0) throw new LexiconLoadError(problems);
    return LexiconSet.fromDocs(docs);
  }

  get size(): number {
    return this.#docs.size;
  }

  ids(): string[] {
    return [...this.#docs.keys()];
  }

  getDoc(id: string): LexiconDocument | undefined {
    return this.#docs.get(id);
  }

  /**
   * Cross-document problems: refs to definitions no loaded document has, refs to tokens and
   * union variants that are not objects or records. Loading tolerates them (a partial set is
   * still useful); a value that reaches one fails validation with a clear message.
   */
  problems(): string[] {
    const out: string[] = [];
    for (const doc of this.#docs.values()) {
      walkDoc(doc, (def, path) => {
        const refs = def.type === 'ref' ? [def.ref as string] : def.type === 'union' ? (def.refs as string[]) : [];
        for (const ref of refs) {
          const target = this.#index.get(resolveRef(ref, doc.id));
          const where = `${doc.id}: ${path}`;
          if (!target) out.push(`${where}: ${ref} does not resolve`);
          else if (def.type === 'ref' && target.def.type === 'token') out.push(`${where}: ${ref} is a token, which a ref can not point to`);
          else if (def.type === 'union' && target.def.type !== 'object' && target.def.type !== 'record') {
            out.push(`${where}: union variant ${ref} is a ${target.def.type}, not an object or record`);
          }
        }
      });
    }
    return out;
  }

  getMethod(nsid: string): MethodSchema | undefined {
    return this.#methods.get(nsid)?.schema;
  }

  hasRecord(collection: string): boolean {
    return this.#records.has(collection);
  }

  recordKeyType(collection: string): RecordKeyType | undefined {
    return this.#records.get(collection)?.keyType;
  }

  /**
   * Validates a record of type `collection`. On success, `value` is the record unchanged
   * (defaults are not filled in: a record is stored as its author wrote it) and `blobs` lists
   * every blob ref in it with its field's constraints.
   */
  validateRecord(collection: string, value: unknown): RecordValidationResult {
    const entry = this.#records.get(collection);
    if (!entry) return fail(`no Lexicon schema for record type ${collection}`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('Record must be an object');
    const type = (value as { $type?: unknown }).$type;
    if (type !== collection) return fail(`Record/$type must be ${collection}${typeof type === 'string' ? `, not ${type}` : ''}`);
    const found: FoundBlob[] = [];
    let lex: unknown;
    try {
      lex = toLex(value, { blobs: found });
    } catch (err) {
      return dataFailure('Record', err);
    }
    try {
      const res = this.#lex.validate(collection, lex);
      if (!res.success) return libraryFailure(res.error);
    } catch (err) {
      return fail(`Record can not be validated: ${(err as Error).message}`);
    }
    const f = entry.check?.(value);
    if (f) return checkFailure('Record', f);
    const blobs = describeBlobs(this.#index, entry.root, value, found);
    const bad = firstBlobViolation('Record', blobs);
    return bad ? fail(bad) : { success: true, value, blobs };
  }

  /** Validates a procedure's JSON input; on success `value` carries the schema's defaults. */
  validateInput(nsid: string, value: unknown): ValidationResult {
    const entry = this.#methods.get(nsid);
    if (!entry || entry.schema.kind !== 'procedure') return fail(`no Lexicon procedure ${nsid}`);
    if (!entry.input) return { success: true, value };
    return this.#validateBody('Input', nsid, entry.input, value, false);
  }

  /** Validates a method's JSON output. Legacy blob refs are tolerated: old records hold them. */
  validateOutput(nsid: string, value: unknown): ValidationResult {
    const entry = this.#methods.get(nsid);
    if (!entry || entry.schema.kind === 'subscription') return fail(`no Lexicon query or procedure ${nsid}`);
    if (!entry.output) return { success: true, value };
    return this.#validateBody('Output', nsid, entry.output, value, true);
  }

  /**
   * Every blob ref in a record, with the `accept`/`maxSize` of the field that holds it (none
   * for blobs outside declared blob fields). Legacy refs are included, with no size. Throws
   * InvalidDataError when the value is not valid atproto data.
   */
  blobFieldsOf(collection: string, value: unknown): BlobField[] {
    const found: FoundBlob[] = [];
    toLex(value, { blobs: found, legacyBlobs: true });
    return describeBlobs(this.#index, this.#records.get(collection)?.root, value, found);
  }

  #validateBody(root: 'Input' | 'Output', nsid: string, body: BodyEntry, value: unknown, legacyBlobs: boolean): ValidationResult {
    const found: FoundBlob[] = [];
    let lex: unknown;
    try {
      lex = toLex(value, { blobs: found, legacyBlobs });
    } catch (err) {
      return dataFailure(root, err);
    }
    let result: unknown;
    try {
      result = root === 'Input' ? this.#lex.assertValidXrpcInput(nsid, lex) : this.#lex.assertValidXrpcOutput(nsid, lex);
    } catch (err) {
      return libraryFailure(err as Error);
    }
    const f = body.check?.(value);
    if (f) return checkFailure(root, f);
    const bad = firstBlobViolation(root, describeBlobs(this.#index, body.root, value, found));
    if (bad) return fail(bad);
    return { success: true, value: carryDefaults(result, lex, value) };
  }
}

/** The copy handed to @atproto/lexicon: it rewrites refs in place, and string formats are ours. */
function libraryCopy(doc: LexiconDocument): LexiconDoc {
  const copy = structuredClone(doc);
  walkDoc(copy, (def) => {
    if (def.type === 'string') delete def.format;
  });
  return copy as unknown as LexiconDoc;
}

function buildMethod(nsid: string, def: LexMethodDef, compiler: CheckCompiler): MethodEntry {
  const schema: MethodSchema = { kind: def.type, errors: (def.errors ?? []).map((e) => e.name) };
  if (def.parameters) schema.params = def.parameters;
  if (def.input) schema.input = def.input;
  if (def.output) schema.output = def.output;
  if (def.message) schema.message = def.message;
  const body = (s: LexDef | undefined): BodyEntry | undefined =>
    s ? { root: { def: s, docId: nsid }, check: compiler.field(s, nsid) } : undefined;
  return { schema, input: body(def.input?.schema), output: body(def.output?.schema) };
}

function dataFailure(root: string, err: unknown): Failure {
  if (err instanceof InvalidDataError) return fail(`${formatPath(root, err.path)} ${err.message}`);
  throw err;
}

function checkFailure(root: string, f: CheckFailure): Failure {
  return fail(`${formatPath(root, f.path.reverse())} ${f.message}`);
}

function firstBlobViolation(root: string, blobs: BlobField[]): string | undefined {
  for (const blob of blobs) {
    const problem = checkBlobConstraints(blob, blob);
    if (problem) return `${root}/${blob.path} ${problem}`;
  }
  return undefined;
}

function listJsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listJsonFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(full);
  }
  return out.sort();
}
