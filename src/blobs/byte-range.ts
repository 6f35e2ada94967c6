/**
 * What a `Range` request header asks of a blob of `size` bytes (RFC 9110 §14). Only one
 * `bytes` range is honoured: a multi-range request, another unit or a malformed header is
 * answered with the whole blob, which the RFC allows and which every client handles.
 */
export type RangeRequest = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const FULL: RangeRequest = { kind: 'full' };
const SPEC = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return FULL;
  const match = SPEC.exec(header);
  if (!match) return FULL;
  const [, first, last] = match;
  if (first === '' && last === '') return FULL;
  if (first === '') {
    // Suffix range: the last N bytes.
    const n = toInt(last);
    if (n === undefined) return FULL;
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = toInt(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : toInt(last);
  if (start === undefined || end === undefined || end < start) return FULL;
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

/**
 * Whether an `If-None-Match` header matches the ETag (weak comparison, as RFC 9110 §13.1.2
 * asks for this header): `*`, or any listed tag with or without its `W/` prefix.
 */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  return trimmed.split(',').some((tag) => {
    const t = tag.trim();
    return (t.startsWith('W/') ? t.slice(2) : t) === opaque;
  });
}

/** `If-Range`: the range applies only when the client's validator is our (strong) ETag. */
export function ifRangeAllows(header: string | undefined, etag: string): boolean {
  return header === undefined || header.trim() === etag;
}

function toInt(digits: string): number | undefined {
  // Beyond 15 digits the value is past any blob size; treat as the largest integer.
  if (digits.length > 15) return Number.MAX_SAFE_INTEGER;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}
