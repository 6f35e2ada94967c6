import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { LexiconLoadError, LexiconSet, validateLexiconDoc } from './index.ts';

const LEXICONS = fileURLToPath(new URL('../../lexicons', import.meta.url));
const lexicons = LexiconSet.fromDirectory(LEXICONS);

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsonFiles(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : [],
  );
}

describe('the vendored lexicons/ folder', () => {
  it('loads every document, and each one validates on its own', () => {
    const files = jsonFiles(LEXICONS);
    assert.ok(files.length >= 250, `only ${files.length} documents`);
    assert.equal(lexicons.size, files.length);
    for (const file of files) {
      const res = validateLexiconDoc(JSON.parse(readFileSync(file, 'utf8')));
      assert.deepEqual(res.success ? true : res.message, true, file);
    }
  });

  it('has no dangling refs, refs to tokens or non-object union variants', () => {
    assert.deepEqual(lexicons.problems(), []);
  });

  it('reads every document without a problem (a server reads each one only when first needed)', () => {
    const fresh = LexiconSet.fromDirectory(LEXICONS);
    assert.doesNotThrow(() => fresh.loadAll());
    assert.equal(fresh.loadedIds().length, fresh.size);
  });
});

describe('getMethod', () => {
  it('describes com.atproto.repo.getRecord as a JSON query with its parameters and errors', () => {
    const m = lexicons.getMethod('com.atproto.repo.getRecord')!;
    assert.equal(m.kind, 'query');
    assert.equal(m.input, undefined);
    assert.equal(m.output?.encoding, 'application/json');
    assert.deepEqual(m.params?.required?.slice().sort(), ['collection', 'repo', 'rkey']);
    assert.equal(m.params?.properties?.repo.format, 'at-identifier');
    assert.deepEqual(m.errors, ['RecordNotFound']);
  });

  it('describes com.atproto.repo.createRecord as a procedure with JSON input and output', () => {
    const m = lexicons.getMethod('com.atproto.repo.createRecord')!;
    assert.equal(m.kind, 'procedure');
    assert.equal(m.input?.encoding, 'application/json');
    assert.equal(m.input?.schema?.type, 'object');
    assert.equal(m.output?.encoding, 'application/json');
    assert.ok(m.errors.includes('InvalidSwap'));
  });

  it('describes com.atproto.sync.subscribeRepos as a subscription with a message union', () => {
    const m = lexicons.getMethod('com.atproto.sync.subscribeRepos')!;
    assert.equal(m.kind, 'subscription');
    assert.equal(m.message?.schema.type, 'union');
    assert.ok((m.message?.schema.refs as string[]).includes('#commit'));
    assert.equal(m.params?.properties?.cursor.type, 'integer');
    assert.ok(m.errors.includes('FutureCursor'));
  });

  it('keeps refs as written in the document (the validator rewrites only its own copy)', () => {
    const m = lexicons.getMethod('com.atproto.repo.applyWrites')!;
    const writes = (m.input?.schema?.properties as Record<string, { items: { refs: string[] } }>).writes;
    assert.deepEqual(writes.items.refs, ['#create', '#update', '#delete']);
  });

  it('returns undefined for an unknown method and for a record type', () => {
    assert.equal(lexicons.getMethod('com.example.nothing'), undefined);
    assert.equal(lexicons.getMethod('app.bsky.feed.post'), undefined);
  });
});

describe('record types', () => {
  it('knows which collections are record types and their record key types', () => {
    assert.equal(lexicons.hasRecord('app.bsky.feed.post'), true);
    assert.equal(lexicons.hasRecord('com.atproto.repo.getRecord'), false);
    assert.equal(lexicons.recordKeyType('app.bsky.feed.post'), 'tid');
    assert.equal(lexicons.recordKeyType('app.bsky.actor.profile'), 'literal:self');
    assert.equal(lexicons.recordKeyType('com.example.nothing'), undefined);
  });

  it('fails a record of a type it does not know, with a message that says so', () => {
    assert.deepEqual(lexicons.validateRecord('com.example.nothing', { $type: 'com.example.nothing' }), {
      success: false,
      message: 'no Lexicon schema for record type com.example.nothing',
    });
  });
});

describe('validateInput and validateOutput', () => {
  it('fills in input defaults without touching the caller object', () => {
    const input = { useCount: 3 };
    const res = lexicons.validateInput('com.atproto.server.createInviteCodes', input);
    assert.deepEqual(res, { success: true, value: { useCount: 3, codeCount: 1 } });
    assert.deepEqual(input, { useCount: 3 });
  });

  it('returns the very input object when there is no default to fill in', () => {
    const input = { repo: 'did:plc:abc', collection: 'app.bsky.feed.like', rkey: '3jzfcijpj2z2a' };
    const res = lexicons.validateInput('com.atproto.repo.deleteRecord', input);
    assert.ok(res.success);
    assert.equal(res.value, input);
  });

  it('names the input path of a bad field, including string formats', () => {
    assert.deepEqual(lexicons.validateInput('com.atproto.repo.deleteRecord', { repo: 'did:plc:abc', collection: 'app.bsky.feed.like' }), {
      success: false,
      message: 'Input must have the property "rkey"',
    });
    assert.deepEqual(
      lexicons.validateInput('com.atproto.repo.deleteRecord', { repo: '@alice', collection: 'app.bsky.feed.like', rkey: 'x' }),
      { success: false, message: 'Input/repo must be a valid at-identifier' },
    );
  });

  it('validates the items of a union array inside the input', () => {
    const write = { $type: 'com.atproto.repo.applyWrites#delete', collection: 'not an nsid', rkey: 'x' };
    assert.deepEqual(lexicons.validateInput('com.atproto.repo.applyWrites', { repo: 'did:plc:abc', writes: [write] }), {
      success: false,
      message: 'Input/writes/0/collection must be a valid nsid',
    });
  });

  it('rejects data-model violations in input with their path', () => {
    const res = lexicons.validateInput('com.atproto.repo.createRecord', {
      repo: 'did:plc:abc',
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', score: 1.5 },
    });
    assert.deepEqual(res, {
      success: false,
      message: 'Input/record/score must be an integer: the data model has no floats and no integers beyond 2^53',
    });
  });

  it('accepts a record value holding decoded CBOR wrappers in an unknown output field', async () => {
    const { CidLinkWrapper, fromString } = await import('@atcute/cid');
    const { BytesWrapper } = await import('@atcute/cbor');
    const cid = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm';
    const value = { $type: 'com.example.thing', link: new CidLinkWrapper(fromString(cid).bytes), data: new BytesWrapper(new Uint8Array([1, 2])) };
    const out = { uri: 'at://did:plc:abc/com.example.thing/self', cid, value };
    const res = lexicons.validateOutput('com.atproto.repo.getRecord', out);
    assert.ok(res.success);
    assert.equal(res.value, out);
    assert.deepEqual(lexicons.validateOutput('com.atproto.repo.getRecord', { ...out, value: [value] }), {
      success: false,
      message: 'Output/value must be an object (not an array, a blob, a link or bytes)',
    });
  });

  it('tolerates legacy blob refs in output but not in a record write', () => {
    const legacy = { cid: 'bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm', mimeType: 'image/png' };
    const profile = { $type: 'app.bsky.actor.profile', avatar: legacy };
    const written = lexicons.validateRecord('app.bsky.actor.profile', profile);
    assert.deepEqual(written, { success: false, message: 'Record/avatar should be a blob ref' });
    const fields = lexicons.blobFieldsOf('app.bsky.actor.profile', profile);
    assert.deepEqual(fields, [
      { path: 'avatar', cid: legacy.cid, mimeType: 'image/png', size: undefined, accept: ['image/png', 'image/jpeg'], maxSize: 1000000 },
    ]);
  });

  it('checks formats deep inside a recursive output schema (a thread of replies)', () => {
    const view = (uri: string) => ({
      uri,
      cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
      author: { did: 'did:plc:abc', handle: 'alice.test' },
      record: { $type: 'app.bsky.feed.post', text: 'hi', createdAt: '2024-05-01T12:34:56.789Z' },
      indexedAt: '2024-05-01T12:34:56.789Z',
    });
    const node = (uri: string, replies: unknown[] = []) => ({ $type: 'app.bsky.feed.defs#threadViewPost', post: view(uri), replies });
    const good = 'at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a';
    const thread = node(good, [node(good, [node(good)])]);
    assert.equal(lexicons.validateOutput('app.bsky.feed.getPostThread', { thread }).success, true);
    const deepBad = node(good, [node(good, [node('at://did:plc:abc/app.bsky.feed.post/')])]);
    assert.deepEqual(lexicons.validateOutput('app.bsky.feed.getPostThread', { thread: deepBad }), {
      success: false,
      message: 'Output/thread/replies/0/replies/0/post/uri must be a valid at-uri',
    });
  });

  it('fails input for a method that is not a procedure', () => {
    assert.equal(lexicons.validateInput('com.atproto.repo.getRecord', {}).success, false);
    assert.equal(lexicons.validateOutput('com.atproto.sync.subscribeRepos', {}).success, false);
  });
});

describe('loading', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'squall-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const minimal = (id: string) => ({ lexicon: 1, id, defs: { main: { type: 'token' } } });

  it('lists the documents of nested folders by the NSID their path names, without reading them', () => {
    const dir = join(tmp, 'nested');
    mkdirSync(join(dir, 'com', 'example'), { recursive: true });
    writeFileSync(join(dir, 'com', 'example', 'a.json'), JSON.stringify(minimal('com.example.a')));
    writeFileSync(join(dir, 'com', 'example', 'b.json'), JSON.stringify(minimal('com.example.b')));
    writeFileSync(join(dir, 'README.md'), 'not a lexicon');
    const set = LexiconSet.fromDirectory(dir);
    assert.deepEqual(set.ids().sort(), ['com.example.a', 'com.example.b']);
    assert.deepEqual(set.loadedIds(), []);
    assert.equal(set.getDoc('com.example.a')?.id, 'com.example.a');
    assert.deepEqual(set.loadedIds(), ['com.example.a']);
  });

  it('refuses, in loadAll, a file that is not JSON, naming the file', () => {
    const dir = join(tmp, 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'bad.json'), '{');
    const set = LexiconSet.fromDirectory(dir);
    assert.throws(() => set.loadAll(), (err: unknown) => err instanceof LexiconLoadError && err.problems[0].includes('bad.json'));
  });

  it('refuses, in loadAll, an invalid document and one whose id is not the NSID its path names, listing each', () => {
    const dir = join(tmp, 'misplaced');
    mkdirSync(join(dir, 'com', 'example'), { recursive: true });
    writeFileSync(join(dir, 'com', 'example', 'a.json'), JSON.stringify(minimal('com.example.other')));
    writeFileSync(join(dir, 'com', 'example', 'c.json'), JSON.stringify({ lexicon: 1, id: 'com.example.c', defs: { x: { type: 'unknown' } } }));
    try {
      LexiconSet.fromDirectory(dir).loadAll();
      assert.fail('expected a LexiconLoadError');
    } catch (err) {
      assert.ok(err instanceof LexiconLoadError);
      assert.deepEqual(err.problems, [
        `${join(dir, 'com', 'example', 'a.json')}: holds com.example.other, but its path names com.example.a`,
        'com.example.c: defs/x: type unknown can not be a named definition',
      ]);
    }
  });

  it('throws the load error when a bad document is first needed, and problems() throws it too', () => {
    const dir = join(tmp, 'bad-record');
    mkdirSync(join(dir, 'com', 'example'), { recursive: true });
    writeFileSync(join(dir, 'com', 'example', 'r.json'), JSON.stringify({ lexicon: 1, id: 'com.example.r', defs: { main: { type: 'record', key: 'nope', record: { type: 'object' } } } }));
    const set = LexiconSet.fromDirectory(dir);
    assert.throws(() => set.validateRecord('com.example.r', { $type: 'com.example.r' }), LexiconLoadError);
    assert.throws(() => set.problems(), LexiconLoadError);
  });

  it('refuses invalid and duplicate documents, listing each one', () => {
    const bad = { lexicon: 1, id: 'com.example.c', defs: { x: { type: 'unknown' } } };
    try {
      LexiconSet.fromDocs([minimal('com.example.a'), minimal('com.example.a'), bad]);
      assert.fail('expected a LexiconLoadError');
    } catch (err) {
      assert.ok(err instanceof LexiconLoadError);
      assert.deepEqual(err.problems, ['com.example.a: defined twice', 'com.example.c: defs/x: type unknown can not be a named definition']);
    }
  });
});
