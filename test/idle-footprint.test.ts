// An idle server holds only what serving needs: the modules for work it has not done yet (an
// outbound HTTPS request, a subscription, an email, a compressed upstream answer, an admin
// command) are loaded when that work first comes. Each one kept out is megabytes of resident
// memory (docs/benchmarks.md, issue 18); this test keeps them out.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSquallProcess, stopProcess } from './helpers/squall-process.ts';
import { freePort } from './helpers/server.ts';
import type { ChildProcess } from 'node:child_process';

const dir = mkdtempSync(join(tmpdir(), 'squall-idle-'));
const report = join(dir, 'modules.json');
let child: ChildProcess;
let loaded: { builtins: string[]; modules: string[] };

before(async () => {
  child = await startSquallProcess({
    port: await freePort(),
    dataDir: join(dir, 'data'),
    plcUrl: 'http://127.0.0.1:1',
    adminPassword: 'idle-footprint-admin',
    nodeArgs: ['--import', './test/helpers/report-modules.mjs'],
    env: { SQUALL_TEST_MODULES_FILE: report },
  });
  child.kill('SIGUSR2');
  // The child writes the report under another name and renames it, so once it exists it is whole.
  for (let i = 0; i < 200 && !existsSync(report); i++) await new Promise((r) => setTimeout(r, 50));
  loaded = JSON.parse(readFileSync(report, 'utf8')) as typeof loaded;
});
after(async () => {
  if (child) await stopProcess(child);
  rmSync(dir, { recursive: true, force: true });
});

describe('an idle server, started and asked for its health', () => {
  it('has not loaded Node’s bundled undici (an ES import of node:http would load it: 14 MB)', () => {
    assert.ok(loaded.builtins.length > 50, 'the report lists the builtins');
    assert.deepEqual(loaded.builtins.filter((m) => /undici/.test(m)), []);
  });

  it('has not loaded node:https or node:tls (first outbound HTTPS request)', () => {
    assert.deepEqual(loaded.builtins.filter((m) => /^NativeModule (https|tls|_tls_wrap|_tls_common)$/.test(m)), []);
  });

  it('has not loaded node:zlib (first compressed upstream answer)', () => {
    assert.deepEqual(loaded.builtins.filter((m) => /^NativeModule zlib$/.test(m)), []);
  });

  it('has not loaded nodemailer (beyond its address parser), ws, the admin commands, the doctor or prom-client’s Pushgateway', () => {
    assert.ok(loaded.modules.some((u) => u.includes('/src/server.ts')), 'the report lists the server’s own modules');
    const unexpected = loaded.modules.filter((u) =>
      /\/node_modules\/(nodemailer\/(?!dist\/esm\/addressparser\/)|ws\/)|\/src\/cli\/admin\/|\/src\/doctor\/|prom-client\/lib\/(pushgateway|cluster)\.js/.test(u),
    );
    assert.deepEqual(unexpected, []);
  });
});
