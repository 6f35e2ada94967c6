// Drives every file in shared/interop/syntax. Line rule (from its README): skip empty lines and
// lines starting with '#'; every other line is one case, taken exactly as is (no trimming).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  isDatetimeSyntax,
  isLanguageSyntax,
  isValidAtIdentifier,
  isValidAtUri,
  isValidCidString,
  isValidDatetime,
  isValidDid,
  isValidHandle,
  isValidLanguage,
  isValidNsid,
  isValidRecordKey,
  isValidTid,
  isValidUri,
} from './index.ts';

const dir = new URL('../../../shared/interop/syntax/', import.meta.url);

function cases(file: string): string[] {
  return readFileSync(new URL(file, dir), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'));
}

const validators: Record<string, (s: string) => boolean> = {
  atidentifier: isValidAtIdentifier,
  aturi: isValidAtUri,
  cid: isValidCidString,
  datetime: isValidDatetime,
  did: isValidDid,
  handle: isValidHandle,
  language: isValidLanguage,
  nsid: isValidNsid,
  recordkey: isValidRecordKey,
  tid: isValidTid,
  uri: isValidUri,
};

/** The shape-only checks that parse_invalid cases must pass (they fail only on meaning). */
const syntaxOnly: Record<string, (s: string) => boolean> = {
  datetime: isDatetimeSyntax,
  language: isLanguageSyntax,
};

const shown = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 60)}…(${s.length} chars)` : s);

describe('syntax vectors', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));

  it('cover every vector file with a validator', () => {
    assert.equal(files.length, 24);
    for (const f of files) assert.ok(validators[f.split('_')[0]], `no validator for ${f}`);
  });

  for (const file of files.sort()) {
    const [type, kind] = file.replace('.txt', '').split('_');
    const validate = validators[type];
    const expected = file.endsWith('_valid.txt');
    it(`${type}: every case in ${file} is ${expected ? 'accepted' : 'rejected'}`, () => {
      const list = cases(file);
      assert.ok(list.length > 0);
      const wrong = list.filter((s) => validate(s) !== expected).map(shown);
      assert.deepEqual(wrong, []);
    });
    if (kind === 'parse') {
      it(`${type}: every case in ${file} has a valid shape, so it fails only on meaning`, () => {
        const wrong = cases(file).filter((s) => !syntaxOnly[type](s)).map(shown);
        assert.deepEqual(wrong, []);
      });
    }
    if (kind === 'syntax' && syntaxOnly[type]) {
      it(`${type}: the shape-only check agrees with every case in ${file}`, () => {
        const wrong = cases(file).filter((s) => syntaxOnly[type](s) !== expected).map(shown);
        assert.deepEqual(wrong, []);
      });
    }
  }
});
