// Everything Squall stores is private to its user (issue 12, finding 9): the database holds
// every account's signing key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { signUp, startAccountsEnv } from './helpers/accounts-env.ts';
import { freePort, startTestServer } from './helpers/server.ts';

const SETPRIV = '/usr/bin/setpriv';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Every path under `root` whose mode is not 0600 (files) or 0700 (directories), with its mode. */
function notPrivate(root: string): string[] {
  const found: string[] = [];
  const visit = (path: string) => {
    const stat = lstatSync(path);
    const mode = stat.mode & 0o777;
    if (mode !== (stat.isDirectory() ? 0o700 : 0o600)) found.push(`${path} ${mode.toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return found;
}

describe('the data directory', () => {
  it('holds only 0600 files and 0700 directories after accounts, sessions and blobs are written', async () => {
    const env = await startAccountsEnv();
    try {
      const alice = await signUp(env, 'modes-alice');
      const { data } = await alice.agent.uploadBlob(pngOfSize(512, 7), { encoding: 'image/png' });
      await alice.agent.post({ text: 'private files', createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ image: data.blob, alt: '' }] } });
      const files = readdirSync(env.server.dataDir);
      assert.ok(files.includes('squall.sqlite') && files.includes('squall.sqlite-wal') && files.includes('blobs'), files.join(', '));
      assert.deepEqual(notPrivate(env.server.dataDir), []);
    } finally {
      await env.close();
    }
  });

  it('is made private at boot, with one structured warning naming what changed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'squall-modes-'));
    dirs.push(dataDir);
    chmodSync(dataDir, 0o755);
    mkdirSync(join(dataDir, 'blobs', 'did%3Aplc%3Aabc'), { recursive: true, mode: 0o755 });
    writeFileSync(join(dataDir, 'blobs', 'did%3Aplc%3Aabc', 'bafkreiexample'), 'blob', { mode: 0o644 });
    writeFileSync(join(dataDir, 'backup-2026-12-01.sqlite'), 'a copy of every key', { mode: 0o644 });
    writeFileSync(join(dataDir, 'secrets.json'), '{}', { mode: 0o640 });
    const logs = new PassThrough();
    const lines: string[] = [];
    logs.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const server = await startTestServer({ PDS_DATA_DIRECTORY: dataDir }, { logStream: logs });
    await server.close();

    assert.deepEqual(notPrivate(dataDir), []);
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string; fixed?: number; examples?: Array<{ path: string; was: string }> }).filter((l) => l.fixed !== undefined);
    assert.equal(warnings.length, 1, lines.join('\n'));
    const [warning] = warnings;
    assert.equal(warning.level, 40);
    assert.match(warning.msg, /private/);
    // Five: secrets.json is rewritten 0600 before (the test server has no rotation key, so one is generated).
    assert.equal(warning.fixed, 5, JSON.stringify(warning.examples));
    assert.deepEqual(warning.examples!.find((e) => e.path.endsWith('backup-2026-12-01.sqlite'))?.was, '644');
    assert.deepEqual(warning.examples!.find((e) => e.path === dataDir)?.was, '755');
  });

  it('refuses to boot, naming the path, when a file other users can read cannot be made private', async (t) => {
    // As root, chmod always succeeds; a root without CAP_FOWNER may change the mode of its own
    // files only, as the user Squall runs as meets a file another user owns (a backup restored by root).
    if (process.getuid?.() !== 0 || !existsSync(SETPRIV)) return t.skip(`needs root and ${SETPRIV} to run Squall without CAP_FOWNER`);
    const dataDir = mkdtempSync(join(tmpdir(), 'squall-modes-'));
    dirs.push(dataDir);
    const backup = join(dataDir, 'backup-2026-12-01.sqlite');
    writeFileSync(backup, 'a copy of every key', { mode: 0o644 });
    chownSync(backup, 65534, 65534);
    const serve = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'serve'];
    const env = { ...process.env, PDS_HOSTNAME: 'localhost', PDS_PORT: String(await freePort()), PDS_DATA_DIRECTORY: dataDir, PDS_ADMIN_PASSWORD: 'data-directory-admin-password', PDS_DID_PLC_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'silent' };
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) =>
      execFile(SETPRIV, ['--bounding-set', '-fowner', '--inh-caps', '-fowner', '--', ...serve], { env, encoding: 'utf8', timeout: 30_000 }, (err, _stdout, stderr) =>
        err && typeof err.code !== 'number' ? reject(err) : resolve({ code: err ? (err.code as number) : 0, stderr }),
      ),
    );
    assert.equal(code, 1, stderr);
    assert.equal(stderr.trim(), `squall: could not start: ${backup} is readable by other users and its mode could not be changed (EPERM); make it 0600 (files) or 0700 (directories), owned by the user running Squall`);
    assert.equal(statSync(backup).mode & 0o777, 0o644);
    assert.equal(existsSync(join(dataDir, 'squall.sqlite')), false, 'the database was opened');
  });
});
