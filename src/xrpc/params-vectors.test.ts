import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatValidators } from '../syntax/index.ts';
import { XrpcError } from './errors.ts';
import { buildParamsCoercer } from './params.ts';

// Every interop syntax vector, sent as a query parameter of that format through the coercer the
// registry builds for each method: the format checks a request meets are the ones tested here.
const dir = new URL('../../../shared/interop/syntax/', import.meta.url);

function cases(file: string): string[] {
  return readFileSync(new URL(file, dir), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const FORMATS: Array<[string, string, string[]]> = [
  ['did', 'did', ['did_syntax_valid.txt', 'did_syntax_invalid.txt']],
  ['handle', 'handle', ['handle_syntax_valid.txt', 'handle_syntax_invalid.txt']],
  ['nsid', 'nsid', ['nsid_syntax_valid.txt', 'nsid_syntax_invalid.txt']],
  ['at-uri', 'aturi', ['aturi_syntax_valid.txt', 'aturi_syntax_invalid.txt']],
  ['at-identifier', 'atidentifier', ['atidentifier_syntax_valid.txt', 'atidentifier_syntax_invalid.txt']],
  ['tid', 'tid', ['tid_syntax_valid.txt', 'tid_syntax_invalid.txt']],
  ['record-key', 'recordkey', ['recordkey_syntax_valid.txt', 'recordkey_syntax_invalid.txt']],
  ['datetime', 'datetime', ['datetime_syntax_valid.txt', 'datetime_syntax_invalid.txt', 'datetime_parse_invalid.txt']],
  ['language', 'language', ['language_syntax_valid.txt', 'language_syntax_invalid.txt', 'language_parse_invalid.txt']],
  ['cid', 'cid', ['cid_syntax_valid.txt', 'cid_syntax_invalid.txt']],
  ['uri', 'uri', ['uri_syntax_valid.txt', 'uri_syntax_invalid.txt']],
];

describe('query parameter formats against the interop syntax vectors', () => {
  for (const [format, name, [validFile, ...invalidFiles]] of FORMATS) {
    const coerce = buildParamsCoercer({ type: 'params', properties: { v: { type: 'string', format } } }, formatValidators);
    const accepts = (value: string) => {
      try {
        return coerce(new URLSearchParams([['v', value]])).v === value;
      } catch (err) {
        if (err instanceof XrpcError && err.status === 400) return false;
        throw err;
      }
    };
    it(`accepts every valid ${name}`, () => {
      const refused = cases(validFile).filter((value) => !accepts(value));
      assert.deepEqual(refused, []);
    });
    it(`refuses every invalid ${name}`, () => {
      const accepted = invalidFiles.flatMap(cases).filter((value) => accepts(value));
      assert.deepEqual(accepted, []);
    });
  }
});
