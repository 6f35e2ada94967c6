import { type LexiconDoc, Lexicons } from '@atproto/lexicon';
import { describeBlobs, checkBlobConstraints } from './blobs.ts';
import { DefIndex, type LocatedDef } from './def-index.ts';
import { carryDefaults } from './defaults.ts';
import { type DocSource, DirectorySource, MemorySource } from './doc-source.ts';
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
  /** Compiled when the first record of the type is validated; null when nothing needs checking. */
  check?: Checker | null;
}

interface BodyEntry {
  root: LocatedDef;
  check?: Checker | null;
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
 * The Lexicon documents a server knows. Validates records and XRPC bodies with
 * @atproto/lexicon, converting from this project's data model first, and adds what that
 * library gets wrong: string formats, `unknown` fields and blob `accept`/`maxSize`.
 *
 * Documents are read on first use: a method's own document when the method is looked up, and
 * a record type's or a body's whole tree of referenced documents the first time one is
 * validated, so validation sees exactly what it would with every document loaded. A bad
 * document shows when it is first needed (as a thrown LexiconLoadError); `loadAll` and
 * `problems` read them all, for tests and checks.
 */
export class LexiconSet {
  readonly #source: DocSource;
  /** The documents read so far; bounded by the source. */
  readonly #docs = new Map<string, LexiconDocument>();
  readonly #index = new DefIndex();
  readonly #compiler = new CheckCompiler(this.#index);
  readonly #lex = new Lexicons();
  /** Documents handed to #lex. */
  readonly #inLibrary = new Set<string>();
  /** Documents whose every transitive reference is in #lex too. */
  readonly #ready = new Set<string>();
  readonly #records = new Map<string, RecordEntry>();
  readonly #methods = new Map<string, MethodEntry>();

  private constructor(source: DocSource) {
    this.#source = source;
  }

  /**
   * Checks documents and keeps them; throws LexiconLoadError listing every bad or duplicate one.
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
    return new LexiconSet(new MemorySource(valid));
  }

  /**
   * The `*.json` documents under `dir`, laid out by NSID (`com/atproto/repo/getRecord.json`).
   * Only lists the files: each is read and checked when first needed (see loadAll).
   */
  static fromDirectory(dir: string): LexiconSet {
    return new LexiconSet(new DirectorySource(dir));
  }

  /** How many documents the set has, read or not. */
  get size(): number {
    return this.#source.size;
  }

  ids(): string[] {
    return this.#source.ids();
  }

  /** The documents read so far (the others have cost nothing yet). */
  loadedIds(): string[] {
    return [...this.#docs.keys()];
  }

  /** Reads every document now; throws LexiconLoadError listing every bad one. */
  loadAll(): this {
    const problems = [...this.#source.clashes];
    for (const id of this.#source.ids()) {
      try {
        this.#doc(id);
      } catch (err) {
        if (!(err instanceof LexiconLoadError)) throw err;
        problems.push(...err.problems);
      }
    }
    if (problems.length > 0) throw new LexiconLoadError(problems);
    return this;
  }

  /**
   * Gets record types ready now (their documents and every one they refer to read, their checks
   * compiled) instead of at their first write: for the few types nearly every account writes.
   */
  prepareRecords(collections: readonly string[]): this {
    for (const collection of collections) {
      const entry = this.#record(collection);
      if (entry) this.#readyRecord(collection, entry);
    }
    return this;
  }

  /**
   * Gets the JSON inputs of these methods ready now (documents read, checks compiled), so the
   * first call of each does not pay for it: for the methods a server registers. Others are ignored.
   */
  prepareInputs(nsids: Iterable<string>): this {
    for (const nsid of nsids) {
      const input = this.#method(nsid)?.input;
      if (input) this.#readyBody(nsid, input);
    }
    return this;
  }

  getDoc(id: string): LexiconDocument | undefined {
    return this.#doc(id);
  }

  /**
   * Cross-document problems: refs to definitions no document has, refs to tokens and union
   * variants that are not objects or records. Loading tolerates them (a partial set is still
   * useful); a value that reaches one fails validation with a clear message. Reads every
   * document first (loadAll), so a bad one throws.
   */
  problems(): string[] {
    this.loadAll();
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
    return this.#method(nsid)?.schema;
  }

  hasRecord(collection: string): boolean {
    return this.#record(collection) !== undefined;
  }

  recordKeyType(collection: string): RecordKeyType | undefined {
    return this.#record(collection)?.keyType;
  }

  /**
   * Validates a record of type `collection`. On success, `value` is the record unchanged
   * (defaults are not filled in: a record is stored as its author wrote it) and `blobs` lists
   * every blob ref in it with its field's constraints.
   */
  validateRecord(collection: string, value: unknown): RecordValidationResult {
    const entry = this.#record(collection);
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
    const check = this.#readyRecord(collection, entry);
    try {
      const res = this.#lex.validate(collection, lex);
      if (!res.success) return libraryFailure(res.error);
    } catch (err) {
      return fail(`Record can not be validated: ${(err as Error).message}`);
    }
    const f = check?.(value);
    if (f) return checkFailure('Record', f);
    const blobs = describeBlobs(this.#index, entry.root, value, found);
    const bad = firstBlobViolation('Record', blobs);
    return bad ? fail(bad) : { success: true, value, blobs };
  }

  /** Validates a procedure's JSON input; on success `value` carries the schema's defaults. */
  validateInput(nsid: string, value: unknown): ValidationResult {
    const entry = this.#method(nsid);
    if (!entry || entry.schema.kind !== 'procedure') return fail(`no Lexicon procedure ${nsid}`);
    if (!entry.input) return { success: true, value };
    return this.#validateBody('Input', nsid, entry.input, value, false);
  }

  /** Validates a method's JSON output. Legacy blob refs are tolerated: old records hold them. */
  validateOutput(nsid: string, value: unknown): ValidationResult {
    const entry = this.#method(nsid);
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
    const entry = this.#record(collection);
    if (entry) this.#prepare(collection);
    return describeBlobs(this.#index, entry?.root, value, found);
  }

  #validateBody(root: 'Input' | 'Output', nsid: string, body: BodyEntry, value: unknown, legacyBlobs: boolean): ValidationResult {
    const found: FoundBlob[] = [];
    let lex: unknown;
    try {
      lex = toLex(value, { blobs: found, legacyBlobs });
    } catch (err) {
      return dataFailure(root, err);
    }
    const check = this.#readyBody(nsid, body);
    let result: unknown;
    try {
      result = root === 'Input' ? this.#lex.assertValidXrpcInput(nsid, lex) : this.#lex.assertValidXrpcOutput(nsid, lex);
    } catch (err) {
      return libraryFailure(err as Error);
    }
    const f = check?.(value);
    if (f) return checkFailure(root, f);
    const bad = firstBlobViolation(root, describeBlobs(this.#index, body.root, value, found));
    if (bad) return fail(bad);
    return { success: true, value: carryDefaults(result, lex, value) };
  }

  /** A record type's documents handed to the library and its checks compiled, once; returns the checks. */
  #readyRecord(collection: string, entry: RecordEntry): Checker | null {
    this.#prepare(collection);
    if (entry.check === undefined) entry.check = this.#compiler.named(`${collection}#main`);
    return entry.check;
  }

  /** The same for a method's input or output. */
  #readyBody(nsid: string, body: BodyEntry): Checker | null {
    this.#prepare(nsid);
    if (body.check === undefined) body.check = this.#compiler.field(body.root.def, nsid);
    return body.check;
  }

  #record(collection: string): RecordEntry | undefined {
    return this.#records.get(collection) ?? (this.#doc(collection) && this.#records.get(collection));
  }

  #method(nsid: string): MethodEntry | undefined {
    return this.#methods.get(nsid) ?? (this.#doc(nsid) && this.#methods.get(nsid));
  }

  /** A document, read and indexed on first use; undefined for an NSID the source does not have. */
  #doc(nsid: string): LexiconDocument | undefined {
    const known = this.#docs.get(nsid);
    if (known !== undefined || !this.#source.has(nsid)) return known;
    const doc = this.#source.read(nsid);
    this.#docs.set(nsid, doc);
    this.#index.add(doc);
    const main = doc.defs.main;
    if (main?.type === 'record') {
      const keyType = (main as LexRecordDef).key as RecordKeyType; // validateLexiconDoc requires a known key type
      this.#records.set(nsid, { keyType, root: this.#index.resolve(`${nsid}#main`, nsid)! });
    } else if (main?.type === 'query' || main?.type === 'procedure' || main?.type === 'subscription') {
      this.#methods.set(nsid, buildMethod(nsid, main as LexMethodDef));
    }
    return doc;
  }

  /**
   * Reads a document and every document it refers to, transitively, and hands each to
   * @atproto/lexicon, so validating against it (and compiling its checks) sees every definition
   * it can reach. A ref to a document the source lacks stays dangling, as `problems` reports.
   */
  #prepare(nsid: string): void {
    if (this.#ready.has(nsid)) return;
    const reached = new Set<string>();
    const todo = [nsid];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (reached.has(id) || this.#ready.has(id)) continue;
      const doc = this.#doc(id);
      if (!doc) continue;
      reached.add(id);
      if (!this.#inLibrary.has(id)) {
        this.#lex.add(libraryCopy(doc));
        this.#inLibrary.add(id);
      }
      todo.push(...referencedDocs(doc));
    }
    // Only now: a document that fails to load on the way leaves the others to try again.
    for (const id of reached) this.#ready.add(id);
  }
}

/** The other documents a document's refs and union variants point into. */
function referencedDocs(doc: LexiconDocument): Set<string> {
  const out = new Set<string>();
  const add = (ref: string) => {
    const target = resolveRef(ref, doc.id);
    const id = target.slice(0, target.indexOf('#'));
    if (id !== doc.id) out.add(id);
  };
  walkDoc(doc, (def) => {
    if (def.type === 'ref') add(def.ref as string);
    else if (def.type === 'union') for (const ref of def.refs as string[]) add(ref);
  });
  return out;
}

/** The copy handed to @atproto/lexicon: it rewrites refs in place, and string formats are ours. */
function libraryCopy(doc: LexiconDocument): LexiconDoc {
  const copy = structuredClone(doc);
  walkDoc(copy, (def) => {
    if (def.type === 'string') delete def.format;
  });
  return copy as unknown as LexiconDoc;
}

function buildMethod(nsid: string, def: LexMethodDef): MethodEntry {
  const schema: MethodSchema = { kind: def.type, errors: (def.errors ?? []).map((e) => e.name) };
  if (def.parameters) schema.params = def.parameters;
  if (def.input) schema.input = def.input;
  if (def.output) schema.output = def.output;
  if (def.message) schema.message = def.message;
  const body = (s: LexDef | undefined): BodyEntry | undefined =>
    s ? { root: { def: s, docId: nsid } } : undefined;
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
