import type { LexDef, LexiconDocument } from './types.ts';

export type DefVisitor = (def: LexDef, path: string) => void;

function isDef(v: unknown): v is LexDef {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as LexDef).type === 'string';
}

/**
 * Calls `visit` on every definition nested in `def`, depth first, parent before children:
 * object properties, array items, a record's object, a method's parameters, bodies and
 * message. `path` is a JSON-pointer-like location used in error messages.
 */
export function walkDef(def: LexDef, path: string, visit: DefVisitor): void {
  visit(def, path);
  switch (def.type) {
    case 'object':
    case 'params': {
      const props = def.properties;
      if (typeof props === 'object' && props !== null) {
        for (const [key, prop] of Object.entries(props)) if (isDef(prop)) walkDef(prop, `${path}/properties/${key}`, visit);
      }
      break;
    }
    case 'array':
      if (isDef(def.items)) walkDef(def.items, `${path}/items`, visit);
      break;
    case 'record':
      if (isDef(def.record)) walkDef(def.record, `${path}/record`, visit);
      break;
    case 'query':
    case 'procedure':
    case 'subscription':
      if (isDef(def.parameters)) walkDef(def.parameters, `${path}/parameters`, visit);
      for (const body of ['input', 'output', 'message'] as const) {
        const schema = (def[body] as { schema?: unknown } | undefined)?.schema;
        if (isDef(schema)) walkDef(schema, `${path}/${body}/schema`, visit);
      }
      break;
  }
}

/** Walks every definition of a document (see walkDef); paths start at `defs/<name>`. */
export function walkDoc(doc: LexiconDocument, visit: DefVisitor): void {
  for (const [name, def] of Object.entries(doc.defs)) if (isDef(def)) walkDef(def, `defs/${name}`, visit);
}

/** Absolute form of a ref written inside document `docId`: `nsid#name`, with `#main` made explicit. */
export function resolveRef(ref: string, docId: string): string {
  if (ref.startsWith('#')) return docId + ref;
  if (ref.startsWith('lex:')) ref = ref.slice(4);
  return ref.includes('#') ? ref : `${ref}#main`;
}
