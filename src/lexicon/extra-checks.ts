// What @atproto/lexicon 0.6 gets wrong or leaves out, checked after it has accepted a value:
// string formats (taken away from it, because its at-uri, uri, language and cid checks
// disagree with the interop vectors) and `unknown` fields (it accepts arrays, links, bytes
// and blobs there). Each schema is compiled once into closures that visit only the fields
// that need a check; a schema with none compiles to null and costs nothing.
import { BytesWrapper } from '@atcute/cbor';
import { CidLinkWrapper } from '@atcute/cid';
import { formatValidators, isStringFormat } from '../syntax/index.ts';
import { type DefIndex, typeNamesOf } from './def-index.ts';
import type { LexArrayDef, LexDef, LexObjectDef, LexUnionDef } from './types.ts';
import { resolveRef } from './walk.ts';

/** A failed check. `path` is filled in reverse while unwinding, so success allocates nothing. */
export interface CheckFailure {
  message: string;
  path: Array<string | number>;
}

export type Checker = (value: unknown) => CheckFailure | undefined;

function isUnknownObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  if (v instanceof CidLinkWrapper || v instanceof BytesWrapper) return false;
  const o = v as Record<string, unknown>;
  return !('$link' in o) && !('$bytes' in o) && o.$type !== 'blob';
}

const checkUnknown: Checker = (v) =>
  isUnknownObject(v) ? undefined : { message: 'must be an object (not an array, a blob, a link or bytes)', path: [] };

export class CheckCompiler {
  readonly #index: DefIndex;
  readonly #named = new Map<string, Checker | null | 'compiling'>();

  constructor(index: DefIndex) {
    this.#index = index;
  }

  /** The checker for a named definition (`nsid#name`); a record stands for its object. */
  named(uri: string): Checker | null {
    const cached = this.#named.get(uri);
    if (cached === 'compiling') {
      // A recursive schema (a thread view holding replies): defer to the finished checker.
      return (v) => {
        const c = this.#named.get(uri);
        return typeof c === 'function' ? c(v) : undefined;
      };
    }
    if (cached !== undefined) return cached;
    const located = this.#index.get(uri);
    if (!located) return null; // unresolved: the validator has already failed on it
    this.#named.set(uri, 'compiling');
    const def = located.def.type === 'record' ? (located.def.record as LexDef) : located.def;
    const checker = this.field(def, located.docId);
    this.#named.set(uri, checker);
    return checker;
  }

  /** The checker for a definition written inside document `docId`. */
  field(def: LexDef, docId: string): Checker | null {
    switch (def.type) {
      case 'string':
        return typeof def.format === 'string' ? this.#format(def.format) : null;
      case 'unknown':
        return checkUnknown;
      case 'object':
        return this.#object(def as LexObjectDef, docId);
      case 'array':
        return this.#array(def as LexArrayDef, docId);
      case 'ref':
        return this.named(resolveRef(def.ref as string, docId));
      case 'union':
        return this.#union(def as LexUnionDef, docId);
      default:
        return null;
    }
  }

  #format(format: string): Checker | null {
    if (!isStringFormat(format)) return null;
    const valid = formatValidators[format];
    const message = `must be a valid ${format}`;
    return (v) => (typeof v !== 'string' || valid(v) ? undefined : { message, path: [] });
  }

  #object(def: LexObjectDef, docId: string): Checker | null {
    const props: Array<[string, Checker]> = [];
    for (const [key, prop] of Object.entries(def.properties ?? {})) {
      const c = this.field(prop, docId);
      if (c) props.push([key, c]);
    }
    if (props.length === 0) return null;
    return (v) => {
      if (typeof v !== 'object' || v === null) return undefined;
      for (const [key, check] of props) {
        const pv = (v as Record<string, unknown>)[key];
        if (pv === undefined || pv === null) continue;
        const f = check(pv);
        if (f) {
          f.path.push(key);
          return f;
        }
      }
      return undefined;
    };
  }

  #array(def: LexArrayDef, docId: string): Checker | null {
    const items = this.field(def.items, docId);
    if (!items) return null;
    return (v) => {
      if (!Array.isArray(v)) return undefined;
      for (let i = 0; i < v.length; i++) {
        const f = items(v[i]);
        if (f) {
          f.path.push(i);
          return f;
        }
      }
      return undefined;
    };
  }

  #union(def: LexUnionDef, docId: string): Checker | null {
    const variants = new Map<string, Checker>();
    for (const ref of def.refs) {
      const uri = resolveRef(ref, docId);
      const c = this.named(uri);
      if (c) for (const name of typeNamesOf(uri)) variants.set(name, c);
    }
    if (variants.size === 0) return null;
    return (v) => {
      const type = (v as { $type?: unknown } | null)?.$type;
      // Open unions let unknown variants through, as the validator did.
      return typeof type === 'string' ? variants.get(type)?.(v) : undefined;
    };
  }
}
