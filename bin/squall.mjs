#!/usr/bin/env node
// The `squall` command. Plain JavaScript that any Node.js can parse. It runs the compiled build
// (dist/, from `npm run build`: the production start, no TypeScript loader in memory) when that
// is present and not older than src/; otherwise the TypeScript source through tsx (a dev install).
// On a Node.js older than 22 it hands over to the Node.js 24 that `npm install` brought, if any.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const MIN_MAJOR = 22;

if (Number(process.versions.node.split('.')[0]) < MIN_MAJOR) {
  const bundled = join(root, 'node_modules', '.bin', 'node');
  if (existsSync(bundled)) {
    const child = spawn(bundled, process.argv.slice(1), { stdio: 'inherit' });
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
    child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
  } else {
    await import('../scripts/require-node.mjs'); // explains what to do, and exits
  }
} else {
  await import('../scripts/require-node.mjs');
  const compiled = join(root, 'dist', 'cli', 'main.js');
  const source = join(root, 'src');
  const stale = existsSync(compiled) && existsSync(source) && newestMtime(source) > statSync(compiled).mtimeMs;
  if (existsSync(compiled) && !stale) {
    await import(pathToFileURL(compiled).href);
  } else {
    if (stale) process.stderr.write('squall: dist/ is older than src/, running the TypeScript source (`npm run build` for the compiled start)\n');
    let register;
    try {
      ({ register } = await import('tsx/esm/api'));
    } catch {
      process.stderr.write('squall: no compiled build in dist/ and no tsx to run the source: run `npm run build` (with dev dependencies installed)\n');
      process.exit(1);
    }
    register();
    await import(pathToFileURL(join(source, 'cli', 'main.ts')).href);
  }
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}
