import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from './helpers/server.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(file: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: opts.cwd ?? root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...opts.env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the production start: the compiled build', () => {
  // Beside dist/, at the same depth, so package.json and lexicons/ are found the same way.
  const outDir = join(root, `.build-test-${process.pid}`);
  before(async () => {
    // The project's own build config; type checking is `npm run typecheck`'s job, not this test's.
    const built = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir, '--noCheck', '--sourceMap', 'false']);
    assert.equal(built.code, 0, built.stdout + built.stderr);
  });
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('serves from JavaScript alone: no TypeScript loader, accounts work, SIGTERM exits 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'squall-prod-'));
    const port = await freePort();
    const child = spawn(process.execPath, [join(outDir, 'cli/main.js'), 'serve'], {
      cwd: dataDir,
      env: { ...process.env, PDS_PORT: String(port), PDS_LOCAL_PLC_PORT: '0', PDS_DATA_DIRECTORY: dataDir, LOG_LEVEL: 'info', PDS_RATE_LIMITS_ENABLED: 'false' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`${base}/xrpc/_health`)).ok) break;
        } catch {
          assert.ok(i < 600 && child.exitCode === null, `server did not start: ${output}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const listening = output.split('\n').find((l) => l.includes('"squall listening"'));
      assert.match(listening ?? '', /"build":"compiled"/);
      const created = await fetch(`${base}/xrpc/com.atproto.server.createAccount`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ handle: 'compiled.test', email: 'compiled@example.com', password: 'compiled-password' }),
      });
      assert.equal(created.status, 200, await created.clone().text());
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('bin/squall.mjs', () => {
  // A copy of the launcher in a tree of its own, with stand-ins for the compiled and source CLIs.
  let tree: string;
  before(() => {
    tree = mkdtempSync(join(tmpdir(), 'squall-bin-'));
    for (const dir of ['bin', 'scripts', 'dist/cli', 'src/cli']) mkdirSync(join(tree, dir), { recursive: true });
    copyFileSync(join(root, 'bin/squall.mjs'), join(tree, 'bin/squall.mjs'));
    copyFileSync(join(root, 'scripts/require-node.mjs'), join(tree, 'scripts/require-node.mjs'));
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
    writeFileSync(join(tree, 'src/cli/main.ts'), "const from: string = 'source';\nconsole.log(from, process.argv.slice(2).join(' '));\n");
    writeFileSync(join(tree, 'dist/cli/main.js'), "console.log('compiled', process.argv.slice(2).join(' '));\n");
  });
  after(() => rmSync(tree, { recursive: true, force: true }));

  const launch = () => run(process.execPath, [join(tree, 'bin/squall.mjs'), 'serve', '--x'], { cwd: tree });
  const age = (file: string, secondsAgo: number) => {
    const t = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(join(tree, file), t, t);
  };

  it('runs the compiled build when it is at least as new as the source', async () => {
    age('src/cli/main.ts', 60);
    age('dist/cli/main.js', 10);
    const result = await launch();
    assert.equal(result.stdout.trim(), 'compiled serve --x');
    assert.equal(result.stderr, '');
  });

  it('runs the TypeScript source, and says why, when the source changed after the build', async () => {
    age('dist/cli/main.js', 60);
    age('src/cli/main.ts', 10);
    const result = await launch();
    assert.equal(result.stdout.trim(), 'source serve --x');
    assert.match(result.stderr, /dist\/ is older than src\//);
  });

  it('runs the TypeScript source when there is no build', async () => {
    rmSync(join(tree, 'dist'), { recursive: true });
    const result = await launch();
    assert.equal(result.stdout.trim(), 'source serve --x');
    assert.equal(result.stderr, '');
  });
});
