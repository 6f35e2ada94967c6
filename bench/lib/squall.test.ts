import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeFlags, npmStartArgs } from './squall.ts';

test('nodeFlags keeps the Node.js flags before the entry point and drops the --import preloads', () => {
  const args = ['--max-semi-space-size=4', '--import', './scripts/require-node.mjs', '--import=tsx', '--no-warnings', 'src/cli/main.ts', 'serve', '--flag-of-the-app'];
  assert.deepEqual(nodeFlags(args), ['--max-semi-space-size=4', '--no-warnings']);
});

test('npmStartArgs reads the node arguments of the start script in package.json, entry point included', () => {
  const args = npmStartArgs();
  assert.ok(args.includes('bin/squall.mjs'), args.join(' '));
  assert.equal(args.at(-1), 'serve');
});
