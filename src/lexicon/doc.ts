import { parseLexiconDoc } from '@atproto/lexicon';
import { isValidNsid, isValidRecordKey } from '../syntax/index.ts';
import type { LexDef, LexiconDocument, ValidationResult } from './types.ts';
import { walkDef } from './walk.ts';

// Types that exist only nested inside other definitions (lexicon spec, "Lexicon Files").
const NOT_NAMEABLE = new Set(['unknown', 'ref', 'union', 'params', 'permission']);
// Primary types, which only the `main` definition may have.
const PRIMARY = new Set(['record', 'query', 'procedure', 'subscription', 'permission-set']);

interface ZodIssueLike {
  path: Array<string | number>;
  message: string;
  code?: string;
  unionErrors?: Array<{ issues: ZodIssueLike[] }>;
}

/**
 * Checks a Lexicon document: the shape rules of `@atproto/lexicon`'s `parseLexiconDoc`, plus
 * what it lets through or gets wrong. Returns the document, typed, or the first problem with
 * its location (`defs/main/record/properties/text: ...`).
 *
 * - `@atproto/lexicon` 0.6 rejects objects declared inline in a property or in array items,
 *   which the spec and the interop catalog use. Such objects are checked as named
 *   definitions of their own instead (the validator itself handles them inline).
 * - It accepts a named `unknown` definition, a closed union with no refs, `const` together
 *   with `default`, partial MIME globs in a blob's `accept`, and a record without a `key` or
 *   with a key type the spec does not define; the spec forbids each of these.
 */
export function validateLexiconDoc(doc: unknown): ValidationResult<LexiconDocument> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('', 'a Lexicon document must be a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.lexicon !== 1) return fail('lexicon', 'must be the integer 1');
  if (typeof d.id !== 'string' || !isValidNsid(d.id)) return fail('id', 'must be a valid NSID');
  if (d.revision !== undefined && !Number.isSafeInteger(d.revision)) return fail('revision', 'must be an integer');
  if (d.description !== undefined && typeof d.description !== 'string') return fail('description', 'must be a string');
  const defs = d.defs;
  if (typeof defs !== 'object' || defs === null || Array.isArray(defs)) return fail('defs', 'must be an object');
  const names = Object.keys(defs);
  if (names.length === 0) return fail('defs', 'a Lexicon document needs at least one definition');
  for (const name of names) {
    const def = (defs as Record<string, unknown>)[name];
    const type = (def as LexDef | null)?.type;
    if (typeof type === 'string' && NOT_NAMEABLE.has(type)) return fail(`defs/${name}`, `type ${type} can not be a named definition`);
    if (name !== 'main' && typeof type === 'string' && PRIMARY.has(type)) return fail(`defs/${name}`, `type ${type} is only allowed as the main definition`);
    const problem = checkDefShape(d.id, name, def) ?? checkSpecRules(def as LexDef, `defs/${name}`);
    if (problem) return { success: false, message: problem };
  }
  return { success: true, value: doc as LexiconDocument };
}

function fail(path: string, message: string): { success: false; message: string } {
  return { success: false, message: path ? `${path}: ${message}` : message };
}

/** Runs the library's shape check on one definition, with inline objects checked separately. */
function checkDefShape(id: string, name: string, def: unknown): string | undefined {
  const copy = structuredClone(def);
  const separate: Array<{ path: string; def: unknown }> = [];
  if (typeof copy === 'object' && copy !== null) hoistInlineObjects(copy as LexDef, `defs/${name}`, separate);
  const parts = [{ path: `defs/${name}`, name, def: copy }, ...separate.map((s) => ({ ...s, name: 'inline' }))];
  for (const part of parts) {
    try {
      parseLexiconDoc({ lexicon: 1, id, defs: { [part.name]: part.def } });
    } catch (err) {
      const issue = mostSpecificIssue((err as { issues?: ZodIssueLike[] }).issues);
      if (!issue) return `${part.path}: ${(err as Error).message}`;
      let path = issue.path;
      if (path[0] === 'defs' && path[1] === part.name) path = path.slice(2);
      return `${[part.path, ...path].join('/')}: ${issue.message}`;
    }
  }
  return undefined;
}

/**
 * Replaces every object declared inline in a property or array items with a placeholder and
 * collects it (recursively) for a separate check. Top-level objects, a record's object and
 * body schemas stay where they are: the library accepts objects there.
 */
function hoistInlineObjects(def: LexDef, path: string, out: Array<{ path: string; def: unknown }>): void {
  const take = (child: LexDef, childPath: string): LexDef => {
    if (child?.type !== 'object') {
      hoistInlineObjects(child, childPath, out);
      return child;
    }
    out.push({ path: childPath, def: child });
    hoistInlineObjects(child, childPath, out);
    return { type: 'unknown', description: 'inline object, checked separately' };
  };
  if (typeof def !== 'object' || def === null) return;
  switch (def.type) {
    case 'object': {
      const props = def.properties as Record<string, LexDef> | undefined;
      if (typeof props === 'object' && props !== null) {
        for (const key of Object.keys(props)) props[key] = take(props[key], `${path}/properties/${key}`);
      }
      break;
    }
    case 'array':
      if (typeof def.items === 'object' && def.items !== null) def.items = take(def.items as LexDef, `${path}/items`);
      break;
    case 'record':
      hoistInlineObjects(def.record as LexDef, `${path}/record`, out);
      break;
    case 'query':
    case 'procedure':
      for (const body of ['input', 'output'] as const) {
        const schema = (def[body] as { schema?: LexDef } | undefined)?.schema;
        if (schema) hoistInlineObjects(schema, `${path}/${body}/schema`, out);
      }
      break;
  }
}

/** Zod reports a failed union as one vague issue; the branch that got furthest says most. */
function mostSpecificIssue(issues: ZodIssueLike[] | undefined): ZodIssueLike | undefined {
  let best: ZodIssueLike | undefined;
  for (const issue of issues ?? []) {
    let candidate = issue;
    if (issue.code === 'invalid_union' && issue.unionErrors) {
      const nested = mostSpecificIssue(issue.unionErrors.flatMap((u) => u.issues));
      if (nested) candidate = nested;
    }
    if (!best || candidate.path.length > best.path.length) best = candidate;
  }
  return best;
}

const RECORD_KEY_TYPES = new Set(['tid', 'nsid', 'any']);
const MIME_PART = /^[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]*$/;

function isAcceptPattern(p: string): boolean {
  if (p === '*/*') return true;
  const slash = p.indexOf('/');
  if (slash <= 0) return false;
  const sub = p.slice(slash + 1);
  return MIME_PART.test(p.slice(0, slash)) && (sub === '*' || MIME_PART.test(sub));
}

/** Spec rules the library does not enforce, checked on a definition that has the right shape. */
function checkSpecRules(def: LexDef, path: string): string | undefined {
  let problem: string | undefined;
  walkDef(def, path, (d, p) => {
    if (problem) return;
    if ('const' in d && 'default' in d) problem = `${p}: const and default are mutually exclusive`;
    else if (d.type === 'union' && d.closed === true && Array.isArray(d.refs) && d.refs.length === 0) {
      problem = `${p}: a closed union must list at least one ref`;
    } else if (d.type === 'blob' && Array.isArray(d.accept)) {
      const bad = (d.accept as unknown[]).find((a) => typeof a !== 'string' || !isAcceptPattern(a));
      if (bad !== undefined) problem = `${p}/accept: ${JSON.stringify(bad)} is not a MIME type or a type/* pattern`;
    } else if (d.type === 'record') {
      const key = d.key;
      const ok = typeof key === 'string' && (RECORD_KEY_TYPES.has(key) || (key.startsWith('literal:') && isValidRecordKey(key.slice(8))));
      if (!ok) problem = `${p}/key: must be tid, nsid, any or literal:<record key>`;
    }
  });
  return problem;
}
