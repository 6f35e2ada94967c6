// Where things are. The shared tools (reference PDS launcher, load.mjs) live in ../shared/bench beside
// the repository, here and in CI; SQUALL_SHARED_BENCH points elsewhere when a checkout is laid out differently.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function sharedBenchDir(): string {
  return resolve(process.env.SQUALL_SHARED_BENCH ?? join(repoRoot, '../shared/bench'));
}

/** A fresh folder under .bench/ (git-ignored) for one run's output, named by time so runs never collide. */
export function makeRunDir(kind: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const dir = join(repoRoot, '.bench', `${kind}-${stamp}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
