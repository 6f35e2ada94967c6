import type { DefIndex, LocatedDef } from './def-index.ts';
import { typeNamesOf } from './def-index.ts';
import type { FoundBlob } from './to-lex.ts';
import type { BlobField, LexBlobDef, LexDef, LexUnionDef } from './types.ts';
import { resolveRef } from './walk.ts';

/** Whether a MIME type matches a blob field's `accept` list (`image/*`, `*\/*`, exact types). */
export function acceptsMimeType(accept: readonly string[], mimeType: string): boolean {
  // Compare the essence only: lowercase, parameters (`; charset=...`) dropped.
  const semi = mimeType.indexOf(';');
  const essence = (semi === -1 ? mimeType : mimeType.slice(0, semi)).trim().toLowerCase();
  for (const pattern of accept) {
    const p = pattern.toLowerCase();
    if (p === '*/*') return true;
    if (p.endsWith('/*') ? essence.startsWith(p.slice(0, -1)) : essence === p) return true;
  }
  return false;
}

/**
 * Checks a blob against its field's constraints, from the declared or the real size and
 * type. Returns what is wrong, or undefined. The blob code calls it again with the stored
 * size and the sniffed type, which a client cannot lie about.
 */
export function checkBlobConstraints(
  field: Pick<BlobField, 'accept' | 'maxSize'>,
  actual: { size: number | undefined; mimeType: string },
): string | undefined {
  if (field.maxSize !== undefined && actual.size !== undefined && actual.size > field.maxSize) {
    return `must not be larger than ${field.maxSize} bytes (blob is ${actual.size} bytes)`;
  }
  if (field.accept !== undefined && !acceptsMimeType(field.accept, actual.mimeType)) {
    return `has MIME type ${actual.mimeType}, which is not one of ${field.accept.join(', ')}`;
  }
  return undefined;
}

/** Follows refs and unions (by the value's `$type`) to a concrete definition. */
function concrete(index: DefIndex, at: LocatedDef, value: unknown): LocatedDef | undefined {
  let cur: LocatedDef | undefined = at;
  for (let hops = 0; cur && hops < 8; hops++) {
    if (cur.def.type === 'ref') cur = index.resolve(cur.def.ref as string, cur.docId);
    else if (cur.def.type === 'union') {
      const type = (value as { $type?: unknown } | null)?.$type;
      if (typeof type !== 'string') return undefined;
      const ref = (cur.def as LexUnionDef).refs.find((r) => typeNamesOf(resolveRef(r, cur!.docId)).includes(type));
      cur = ref === undefined ? undefined : index.resolve(ref, cur.docId);
    } else return cur;
  }
  return undefined;
}

/**
 * The blob definition governing the value at `path` under `root`, or undefined when no
 * declared blob field holds it (an `unknown` field, an undeclared key, an open-union variant).
 */
export function blobDefAt(index: DefIndex, root: LocatedDef, rootValue: unknown, path: ReadonlyArray<string | number>): LexBlobDef | undefined {
  let at: LocatedDef | undefined = root;
  let value = rootValue;
  for (const seg of path) {
    at = concrete(index, at, value);
    if (!at) return undefined;
    let next: LexDef | undefined;
    if (at.def.type === 'object') next = (at.def.properties as Record<string, LexDef> | undefined)?.[seg];
    else if (at.def.type === 'array') next = at.def.items as LexDef;
    if (!next) return undefined;
    at = { def: next, docId: at.docId };
    value = (value as Record<string | number, unknown>)[seg];
  }
  at = concrete(index, at, value);
  return at?.def.type === 'blob' ? (at.def as LexBlobDef) : undefined;
}

/** Pairs each blob found in a value with the constraints of the field that holds it. */
export function describeBlobs(index: DefIndex, root: LocatedDef | undefined, rootValue: unknown, found: FoundBlob[]): BlobField[] {
  return found.map((b) => {
    const def = root ? blobDefAt(index, root, rootValue, b.path) : undefined;
    const field: BlobField = { path: b.path.join('/'), cid: b.cid, mimeType: b.mimeType, size: b.size };
    if (def?.accept !== undefined) field.accept = def.accept;
    if (def?.maxSize !== undefined) field.maxSize = def.maxSize;
    return field;
  });
}
