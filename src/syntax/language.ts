/** Longer than any real tag; keeps the work bounded for hostile input. */
export const MAX_LANGUAGE_LENGTH = 128;

// RFC 5646 grandfathered tags: irregular ones and regular ones that the generic grammar
// cannot describe. Stored lowercase; tags compare case-insensitively.
const GRANDFATHERED = new Set([
  'en-gb-oed', 'i-ami', 'i-bnn', 'i-default', 'i-enochian', 'i-hak', 'i-klingon', 'i-lux', 'i-mingo',
  'i-navajo', 'i-pwn', 'i-tao', 'i-tay', 'i-tsu', 'sgn-be-fr', 'sgn-be-nl', 'sgn-ch-de',
  'art-lojban', 'cel-gaulish', 'no-bok', 'no-nyn', 'zh-guoyu', 'zh-hakka', 'zh-min', 'zh-min-nan', 'zh-xiang',
]);

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isAlpha = (c: number) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
const isAlnum = (c: number) => isAlpha(c) || isDigit(c);

function allOf(s: string, test: (c: number) => boolean): boolean {
  for (let i = 0; i < s.length; i++) if (!test(s.charCodeAt(i))) return false;
  return true;
}

const isAlphaStr = (s: string) => allOf(s, isAlpha);
const isAlnumStr = (s: string) => allOf(s, isAlnum);

function isVariant(t: string): boolean {
  return isAlnumStr(t) && ((t.length >= 5 && t.length <= 8) || (t.length === 4 && isDigit(t.charCodeAt(0))));
}

function isPrivateUse(subtags: string[], from: number): boolean {
  if (from + 1 >= subtags.length) return false;
  for (let i = from + 1; i < subtags.length; i++) {
    const t = subtags[i];
    if (t.length < 1 || t.length > 8 || !isAlnumStr(t)) return false;
  }
  return true;
}

/**
 * Parses a BCP 47 tag. Returns 'invalid' when it is not well-formed, 'repeated' when it is
 * well-formed but repeats a variant or an extension singleton (RFC 5646 §2.2.9), else 'ok'.
 *
 * Stricter than RFC 5646 in one respect, as atproto requires: the primary language subtag is
 * 2-3 (or 5-8) lowercase letters, so `JA` and the reserved four-letter form (`jaja`) are refused.
 */
function checkLanguage(s: string): 'ok' | 'repeated' | 'invalid' {
  if (s.length < 2 || s.length > MAX_LANGUAGE_LENGTH) return 'invalid';
  const lower = s.toLowerCase();
  if (GRANDFATHERED.has(lower)) return isLower(s.charCodeAt(0)) ? 'ok' : 'invalid';
  const subtags = s.split('-');
  const first = subtags[0];
  if (first === 'x' || first === 'X') return isPrivateUse(subtags, 0) ? 'ok' : 'invalid';
  if (!allOf(first, isLower) || first.length < 2 || first.length === 4 || first.length > 8) return 'invalid';
  let i = 1;
  const n = subtags.length;
  // extlang: up to three 3-letter subtags, only after a 2-3 letter language.
  if (first.length <= 3) {
    let ext = 0;
    while (i < n && ext < 3 && subtags[i].length === 3 && isAlphaStr(subtags[i])) {
      i++;
      ext++;
    }
  }
  if (i < n && subtags[i].length === 4 && isAlphaStr(subtags[i])) i++; // script
  if (i < n && ((subtags[i].length === 2 && isAlphaStr(subtags[i])) || (subtags[i].length === 3 && allOf(subtags[i], isDigit)))) i++; // region
  let repeated = false;
  const variants: string[] = [];
  while (i < n && isVariant(subtags[i])) {
    const v = subtags[i].toLowerCase();
    if (variants.includes(v)) repeated = true;
    variants.push(v);
    i++;
  }
  const singletons: string[] = [];
  while (i < n && subtags[i].length === 1 && isAlnum(subtags[i].charCodeAt(0))) {
    const singleton = subtags[i].toLowerCase();
    if (singleton === 'x') break;
    if (singletons.includes(singleton)) repeated = true;
    singletons.push(singleton);
    i++;
    const start = i;
    while (i < n && subtags[i].length >= 2 && subtags[i].length <= 8 && isAlnumStr(subtags[i])) i++;
    if (i === start) return 'invalid';
  }
  if (i < n) {
    if (subtags[i] !== 'x' && subtags[i] !== 'X') return 'invalid';
    if (!isPrivateUse(subtags, i)) return 'invalid';
  }
  return repeated ? 'repeated' : 'ok';
}

/** Whether the tag is well-formed BCP 47 (as atproto restricts it), ignoring repeated subtags. */
export function isLanguageSyntax(s: string): boolean {
  return checkLanguage(s) !== 'invalid';
}

/** The Lexicon `language` format: a well-formed tag with no repeated variant or extension singleton. */
export function isValidLanguage(s: string): boolean {
  return checkLanguage(s) === 'ok';
}
