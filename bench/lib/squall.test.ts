import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { nodeFlags, npmStartArgs, sourceStartGuard } from './squall.ts';

test('nodeFlags keeps the Node.js flags before the entry point and drops the --import preloads', () => {
  const args = ['--max-semi-space-size=4', '--import', './scripts/require-node.mjs', '--import=tsx', '--no-warnings', 'src/cli/main.ts', 'serve', '--flag-of-the-app'];
  assert.deepEqual(nodeFlags(args), ['--max-semi-space-size=4', '--no-warnings']);
});

test('npmStartArgs reads the node arguments of the start script in package.json, entry point included', () => {
  const args = npmStartArgs();
  assert.ok(args.includes('bin/squall.mjs'), args.join(' '));
  assert.equal(args.at(-1), 'serve');
});

test('sourceStartGuard stops a benchmark whose server fell back to the TypeScript source, and lets a compiled start through', async () => {
  const compiled = { stderr: new PassThrough() };
  const compiledGuard = sourceStartGuard(compiled, '/tree');
  compiled.stderr.write('{"level":30,"msg":"listening"}\n');
  const fallback = { stderr: new PassThrough() };
  const fallbackGuard = sourceStartGuard(fallback, '/tree');
  fallback.stderr.write('squall: dist/ is older than src/, running the TypeScript source (`npm run build` for the compiled start)\n');
  await new Promise((resolve) => setImmediate(resolve));
  compiledGuard.check();
  assert.throws(() => fallbackGuard.check(), /\/tree changed after the benchmark built it/);
});
