import { hash } from 'node:crypto';
import { InvalidMstKeyError } from './errors.ts';

/** Longest key accepted: an NSID (317) + '/' + a record key (512), with room to spare. */
export const MAX_KEY_LENGTH = 1024;

/**
 * The layer ("height") of a key: leading zero bits of SHA-256(UTF-8 key), counted in 2-bit
 * chunks, so each layer holds about a quarter of the keys of the one below (fanout 4).
 */
export function keyHeight(key: string): number {
  const digest = hash('sha256', key, 'buffer');
  let zeros = 0;
  for (let i = 0; i < digest.length; i++) {
    const byte = digest[i];
    if (byte === 0) {
      zeros += 8;
      continue;
    }
    zeros += Math.clz32(byte) - 24;
    break;
  }
  return zeros >> 1;
}

/**
 * How many leading bytes two keys share: the prefix an MST entry elides from its key.
 * Keys are ASCII (see `checkKey`), so UTF-16 code units are bytes.
 */
export function commonPrefixLength(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Why a key cannot be an MST key, or null if it can. Keys are repo paths, `<collection>/<rkey>`:
 * two non-empty segments of `A-Za-z0-9 . - _ ~ :`. Keeping them ASCII also makes JavaScript's
 * string order the byte order the spec sorts by, so `<` can compare keys.
 */
export function keyProblem(key: string): string | null {
  const n = key.length;
  if (n === 0) return 'empty';
  if (n > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters`;
  let slash = -1;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c === 0x2f) {
      if (slash !== -1) return 'more than two path segments';
      slash = i;
    } else if (!isPathChar(c)) {
      return `character ${JSON.stringify(key[i])} not allowed`;
    }
  }
  if (slash === -1) return 'no "/" between collection and record key';
  if (slash === 0 || slash === n - 1) return 'empty path segment';
  return null;
}

export function checkKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== null) throw new InvalidMstKeyError(key, problem);
}

function isPathChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x3a) || // 0-9 and ':'
    c === 0x2e || // .
    c === 0x2d || // -
    c === 0x5f || // _
    c === 0x7e // ~
  );
}
