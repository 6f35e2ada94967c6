import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runLoadMjs } from './load-mjs.ts';
import { findFreePort } from './processes.ts';

test('runLoadMjs explains a load.mjs failure instead of throwing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'squall-'));
  try {
    const port = await findFreePort(); // nothing listens there
    const target = { label: 'nobody', description: 'no server', url: `http://127.0.0.1:${port}`, pid: process.pid, stop: async () => {} };
    const result = await runLoadMjs(target, join(dir, 'out.json'), ['--only', 'a', '--quiet'], 30_000, false);
    assert.equal(result.run, undefined);
    assert.match(result.failure ?? '', /^load\.mjs exited \(1\): .*ECONNREFUSED/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
