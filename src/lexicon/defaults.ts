/**
 * The validator fills in `default` values by shallow-copying each object it changes, so
 * its result differs from its input exactly along the changed paths. This carries those
 * defaults over to the original (data-model) value, walking only the changed paths.
 */
export function carryDefaults(result: unknown, lex: unknown, original: unknown): unknown {
  if (result === lex) return original;
  if (!isRecord(result) || !isRecord(lex) || !isRecord(original)) return original;
  const out: Record<string, unknown> = { ...original };
  for (const key in result) {
    const r = result[key];
    if (r === lex[key]) continue;
    const v = typeof r === 'object' && r !== null ? carryDefaults(r, lex[key], original[key]) : r;
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
