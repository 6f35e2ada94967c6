import { parseArgs } from 'node:util';
import { runSmoke } from './run.ts';

const { values } = parseArgs({
  options: {
    'base-url': { type: 'string', default: 'http://127.0.0.1:2583' },
    'admin-password': { type: 'string' },
  },
});

const results = await runSmoke(values['base-url']!, { adminPassword: values['admin-password'] });
let failed = 0;
for (const result of results) {
  const note = result.problems.length ? ` (${result.problems.join('; ')})` : '';
  console.log(`${result.ok ? 'ok  ' : 'FAIL'} ${result.check.name}${note}`);
  if (!result.ok) failed++;
}
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
