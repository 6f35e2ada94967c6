import type { LexDef, LexiconDocument } from './types.ts';
import { resolveRef } from './walk.ts';

/** A definition together with the id of the document it sits in (relative refs need it). */
export interface LocatedDef {
  def: LexDef;
  docId: string;
}

/** Every named definition of a set of documents, by absolute ref (`nsid#name`). */
export class DefIndex {
  readonly #defs = new Map<string, LocatedDef>();

  add(doc: LexiconDocument): void {
    for (const [name, def] of Object.entries(doc.defs)) this.#defs.set(`${doc.id}#${name}`, { def, docId: doc.id });
  }

  get(uri: string): LocatedDef | undefined {
    return this.#defs.get(uri);
  }

  /** The definition a `ref` written in `docId` points to; a record stands for its object. */
  resolve(ref: string, docId: string): LocatedDef | undefined {
    const found = this.#defs.get(resolveRef(ref, docId));
    if (found?.def.type === 'record') return { def: found.def.record as LexDef, docId: found.docId };
    return found;
  }
}

/** The forms a `$type` can take for a union variant: `nsid#name`, and bare `nsid` for main. */
export function typeNamesOf(uri: string): string[] {
  return uri.endsWith('#main') ? [uri.slice(0, -5), uri] : [uri];
}
