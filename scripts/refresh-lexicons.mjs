#!/usr/bin/env node
// Brings the vendored Lexicon documents (lexicons/) up to the ones the installed @atproto/api
// ships, for the namespaces Squall vendors. Run after upgrading @atproto/api:
//   node scripts/refresh-lexicons.mjs [--check]
// @atproto/api holds its documents with refs rewritten to the internal `lex:` form; they are
// turned back into the published form (`lex:` dropped, refs into the same document as `#def`)
// and a file is only rewritten when its document really changed, so the diff shows changes only.
// Documents the package does not carry (permission sets) are left as they are.
// Prints what was added, changed and left; with --check, writes nothing and exits 1 on a change.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const NAMESPACES = ['com.atproto.', 'app.bsky.', 'chat.bsky.', 'tools.ozone.'];
const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');

const apiDir = join(root, 'node_modules', '@atproto', 'api');
const { version } = JSON.parse(readFileSync(join(apiDir, 'package.json'), 'utf8'));
// Not an exported subpath of the package, so it is loaded by file.
const { schemas } = await import(pathToFileURL(join(apiDir, 'dist', 'client', 'lexicons.js')).href);

/** The published form of a value from @atproto/api's normalised document `id`. */
function published(value, id) {
  if (Array.isArray(value)) return value.map((v) => published(v, id));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, published(v, id)]));
  if (typeof value === 'string') {
    const ref = value.startsWith('lex:') ? value.slice(4) : value;
    return ref.startsWith(`${id}#`) ? ref.slice(id.length) : ref;
  }
  return value;
}

/** Key order does not matter to a document's meaning; refs are compared in published form. */
function canonical(value, id) {
  const v = published(value, id);
  const sort = (x) =>
    Array.isArray(x) ? x.map(sort) : x && typeof x === 'object' ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort(x[k])])) : x;
  return JSON.stringify(sort(v));
}

const added = [];
const changed = [];
let same = 0;
for (const doc of schemas) {
  if (!NAMESPACES.some((ns) => doc.id.startsWith(ns))) continue;
  const file = join(root, 'lexicons', ...doc.id.split('.')) + '.json';
  const next = published(doc, doc.id);
  if (existsSync(file)) {
    const current = JSON.parse(readFileSync(file, 'utf8'));
    if (canonical(current, doc.id) === canonical(next, doc.id)) {
      same++;
      continue;
    }
    changed.push(doc.id);
  } else {
    added.push(doc.id);
  }
  if (!check) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
  }
}
console.log(`@atproto/api ${version}: ${same} documents unchanged, ${added.length} added, ${changed.length} changed`);
for (const id of added) console.log(`  added    ${id}`);
for (const id of changed) console.log(`  changed  ${id}`);
if (check && added.length + changed.length > 0) process.exit(1);
