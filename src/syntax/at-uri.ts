import { isValidAtIdentifier } from './at-identifier.ts';
import { isValidNsid } from './nsid.ts';
import { isValidRecordKey } from './record-key.ts';

/** The at-uri spec's current ceiling (8 KB); every character is ASCII, so characters = bytes. */
export const MAX_AT_URI_LENGTH = 8192;

export interface AtUriParts {
  /** A DID or a handle, as written (handles are not lowercased here). */
  authority: string;
  collection?: string;
  rkey?: string;
}

/**
 * Splits a strict Lexicon at-uri (`at://AUTHORITY[/COLLECTION[/RKEY]]`) into its parts, or
 * returns undefined when it is not one. Strict means no query, no fragment, no trailing or
 * doubled slash, no percent-escapes and no further path segments: each part must be a valid
 * identifier on its own.
 */
export function parseAtUri(s: string): AtUriParts | undefined {
  if (s.length > MAX_AT_URI_LENGTH || !s.startsWith('at://')) return undefined;
  const authorityEnd = s.indexOf('/', 5);
  if (authorityEnd === -1) return isValidAtIdentifier(s.slice(5)) ? { authority: s.slice(5) } : undefined;
  const authority = s.slice(5, authorityEnd);
  if (!isValidAtIdentifier(authority)) return undefined;
  const collectionEnd = s.indexOf('/', authorityEnd + 1);
  const collection = s.slice(authorityEnd + 1, collectionEnd === -1 ? s.length : collectionEnd);
  if (!isValidNsid(collection)) return undefined;
  if (collectionEnd === -1) return { authority, collection };
  const rkey = s.slice(collectionEnd + 1);
  // A slash inside the rest is rejected by the record-key check itself.
  return isValidRecordKey(rkey) ? { authority, collection, rkey } : undefined;
}

/** The strict Lexicon `at-uri` string format. */
export function isValidAtUri(s: string): boolean {
  return parseAtUri(s) !== undefined;
}
