#!/usr/bin/env node
// Finds every *.test.ts under src/, test/ and bench/ and runs them with node's test runner.
// Node 20 has no glob support in `--test`, so the file list is built here.
// Usage: node scripts/run-tests.mjs [path-substring ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

const files = [...walk(join(root, 'src'), []), ...walk(join(root, 'test'), []), ...walk(join(root, 'bench'), [])]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  // The OAuth tests serve client metadata over https from a test CA (test/fixtures/oauth-tls).
  { cwd: root, stdio: 'inherit', env: { ...process.env, SQUALL_TEST: '1', NODE_EXTRA_CA_CERTS: join(root, 'test/fixtures/oauth-tls/ca.pem') } },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
