import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { nodeFlags, npmStartCommand, parseStartScript, sourceStartGuard } from './squall.ts';

test('nodeFlags keeps the Node.js flags before the entry point and drops the --import preloads', () => {
  const args = ['--max-semi-space-size=4', '--import', './scripts/require-node.mjs', '--import=tsx', '--no-warnings', 'src/cli/main.ts', 'serve', '--flag-of-the-app'];
  assert.deepEqual(nodeFlags(args), ['--max-semi-space-size=4', '--no-warnings']);
});

test('npmStartCommand reads the environment and the node arguments of the start script in package.json, entry point included', () => {
  const { env, args } = npmStartCommand();
  assert.ok(args.includes('bin/squall.mjs'), args.join(' '));
  assert.equal(args.at(-1), 'serve');
  assert.equal(env.MALLOC_ARENA_MAX, '2');
});

test('parseStartScript splits leading NAME=value words from the node command, and refuses what a shell would read otherwise', () => {
  assert.deepEqual(parseStartScript('node bin/squall.mjs serve'), { env: {}, args: ['bin/squall.mjs', 'serve'] });
  assert.deepEqual(parseStartScript('  A=1 B_2=x=y  node --flag=3 main.js '), { env: { A: '1', B_2: 'x=y' }, args: ['--flag=3', 'main.js'] });
  assert.deepEqual(parseStartScript('EMPTY= node main.js'), { env: { EMPTY: '' }, args: ['main.js'] });
  for (const script of ['', 'node', 'A=1 node', 'npm run serve', 'A=1 tsx main.ts', 'node main.js && node other.js', 'A="1 2" node main.js', 'A=$HOME node main.js', 'node main.js > log', 'node main.js --x=`id`']) {
    assert.throws(() => parseStartScript(script), /not a plain/, script);
  }
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
