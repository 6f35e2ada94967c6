// npm's `prepare` step, run by `npm install` and `npm ci`: compiles src/ to dist/ (tsc, a few
// seconds), so that `npm start` runs the JavaScript build and holds no TypeScript loader in memory.
// bin/squall.mjs runs the source instead whenever dist/ is missing or older than src/, so an edit
// is never served stale. Where the TypeScript compiler is not installed (an install without dev
// dependencies) it says so and leaves dist/ as it is. Plain JavaScript that any Node.js can run.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  // `npm run build` (--build) must build; npm's prepare step may find nothing to build with.
  const required = process.argv.includes('--build');
  process.stdout.write(`squall: no TypeScript compiler installed (dev dependencies left out): dist/ not ${required ? 'built' : 'rebuilt'}\n`);
  process.exit(required ? 1 : 0);
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
