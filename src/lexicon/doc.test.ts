import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { validateLexiconDoc } from './index.ts';

const dir = new URL('../../../shared/interop/lexicon/', import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

const doc = (defs: Record<string, unknown>) => ({ lexicon: 1, id: 'example.lexicon.test', defs });
const recordWith = (properties: Record<string, unknown>) =>
  doc({ main: { type: 'record', key: 'tid', record: { type: 'object', properties } } });

function messageOf(d: unknown): string {
  const res = validateLexiconDoc(d);
  assert.equal(res.success, false, 'expected the document to be rejected');
  return res.success ? '' : res.message;
}

describe('validateLexiconDoc against the interop vectors', () => {
  const valid: Array<{ name: string; lexicon: unknown }> = load('lexicon-valid.json');
  const invalid: Array<{ name: string; lexicon: unknown }> = load('lexicon-invalid.json');

  it('has the expected number of cases', () => {
    assert.equal(valid.length, 3);
    assert.equal(invalid.length, 7);
  });

  for (const c of valid) {
    it(`accepts the valid document "${c.name}"`, () => {
      const res = validateLexiconDoc(c.lexicon);
      assert.deepEqual(res.success ? true : res.message, true);
    });
  }

  for (const c of invalid) {
    it(`rejects the invalid document "${c.name}"`, () => {
      assert.equal(validateLexiconDoc(c.lexicon).success, false);
    });
  }

  for (const file of readdirSync(new URL('catalog/', dir))) {
    it(`accepts the catalog document ${file}`, () => {
      const res = validateLexiconDoc(load(`catalog/${file}`));
      assert.deepEqual(res.success ? true : res.message, true);
    });
  }
});

describe('validateLexiconDoc beyond the vectors', () => {
  it('explains why each invalid vector document is rejected', () => {
    const byName = new Map((load('lexicon-invalid.json') as Array<{ name: string; lexicon: unknown }>).map((c) => [c.name, c.lexicon]));
    assert.equal(messageOf(byName.get('invalid lexicon field')), 'lexicon: must be the integer 1');
    assert.equal(messageOf(byName.get('invalid NSID')), 'id: must be a valid NSID');
    assert.equal(messageOf(byName.get('defined unknown')), 'defs/demo: type unknown can not be a named definition');
    assert.equal(messageOf(byName.get('non-main primary')), 'defs/demo: type record is only allowed as the main definition');
    assert.match(messageOf(byName.get('record missing type object')), /^defs\/main\/record\/type: /);
  });

  it('checks objects declared inline and reports a problem inside one at its real location', () => {
    const ok = recordWith({ o: { type: 'object', properties: { list: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } } } } });
    assert.equal(validateLexiconDoc(ok).success, true);
    const bad = recordWith({ o: { type: 'object', properties: { list: { type: 'array', items: { type: 'object', properties: { n: { type: 'integr' } } } } } } });
    assert.match(messageOf(bad), /^defs\/main\/record\/properties\/o\/properties\/list\/items\/properties\/n\/type: /);
  });

  it('rejects a document without definitions', () => {
    assert.equal(messageOf(doc({})), 'defs: a Lexicon document needs at least one definition');
  });

  it('rejects a closed union without refs', () => {
    assert.equal(
      messageOf(recordWith({ u: { type: 'union', refs: [], closed: true } })),
      'defs/main/record/properties/u: a closed union must list at least one ref',
    );
    assert.equal(validateLexiconDoc(recordWith({ u: { type: 'union', refs: [] } })).success, true);
  });

  it('rejects const together with default', () => {
    assert.equal(
      messageOf(recordWith({ s: { type: 'string', const: 'a', default: 'a' } })),
      'defs/main/record/properties/s: const and default are mutually exclusive',
    );
  });

  it('rejects partial MIME globs in a blob accept list', () => {
    assert.match(messageOf(recordWith({ b: { type: 'blob', accept: ['text/ht*'] } })), /accept: "text\/ht\*" is not a MIME type/);
    assert.match(messageOf(recordWith({ b: { type: 'blob', accept: ['*'] } })), /accept: "\*"/);
    assert.equal(validateLexiconDoc(recordWith({ b: { type: 'blob', accept: ['image/*', 'video/mp4', '*/*'] } })).success, true);
  });

  it('requires a record key type, one of tid, nsid, any and literal:<key>', () => {
    const withKey = (key: string) => doc({ main: { type: 'record', key, record: { type: 'object', properties: {} } } });
    for (const key of ['tid', 'nsid', 'any', 'literal:self']) assert.equal(validateLexiconDoc(withKey(key)).success, true, key);
    assert.equal(messageOf(withKey('uuid')), 'defs/main/key: must be tid, nsid, any or literal:<record key>');
    assert.equal(messageOf(withKey('literal:..')), 'defs/main/key: must be tid, nsid, any or literal:<record key>');
    assert.equal(messageOf(doc({ main: { type: 'record', record: { type: 'object', properties: {} } } })), 'defs/main/key: must be tid, nsid, any or literal:<record key>');
  });

  it('does not modify the document it checks', () => {
    const d = recordWith({ o: { type: 'object', properties: { a: { type: 'integer' } } } });
    const before = structuredClone(d);
    validateLexiconDoc(d);
    assert.deepEqual(d, before);
  });
});
