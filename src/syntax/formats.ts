import { isValidAtIdentifier } from './at-identifier.ts';
import { isValidAtUri } from './at-uri.ts';
import { isValidCidString } from './cid.ts';
import { isValidDatetime } from './datetime.ts';
import { isValidDid } from './did.ts';
import { isValidHandle } from './handle.ts';
import { isValidLanguage } from './language.ts';
import { isValidNsid } from './nsid.ts';
import { isValidRecordKey } from './record-key.ts';
import { isValidTid } from './tid.ts';
import { isValidUri } from './uri.ts';

export type StringFormat =
  | 'did'
  | 'handle'
  | 'nsid'
  | 'at-uri'
  | 'at-identifier'
  | 'tid'
  | 'record-key'
  | 'datetime'
  | 'language'
  | 'uri'
  | 'cid';

/** One validator per Lexicon string format, by the format's name in Lexicon documents. */
export const formatValidators: Readonly<Record<StringFormat, (s: string) => boolean>> = Object.freeze({
  did: isValidDid,
  handle: isValidHandle,
  nsid: isValidNsid,
  'at-uri': isValidAtUri,
  'at-identifier': isValidAtIdentifier,
  tid: isValidTid,
  'record-key': isValidRecordKey,
  datetime: isValidDatetime,
  language: isValidLanguage,
  uri: isValidUri,
  cid: isValidCidString,
});

export function isStringFormat(name: string): name is StringFormat {
  return Object.hasOwn(formatValidators, name);
}
