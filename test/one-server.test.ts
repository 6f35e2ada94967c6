// One server per database: a second Squall started on a data directory that a running server
// uses refuses to start (before it touches secrets or the database), so does `admin verify`
// (it reads a stopped server's data), and a server that died, however it died, never leaves a
// lock behind.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { startPds } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { BootError } from '../src/context.ts';
import { lockDatabase, DatabaseInUseError, lockFileOf } from '../src/db/server-lock.ts';
import { createLogger } from '../src/logger.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { freePort, startTestServer } from './helpers/server.ts';
import { startSquallProcess, stopProcess } from './helpers/squall-process.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function adminVerify(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'admin', 'verify', '--data', dataDir], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/** The files of this process whose path starts with `prefix` (a database, its -wal and -shm). */
function openFilesOf(prefix: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(prefix) ? [target] : [];
    } catch {
      return []; // closed in between
    }
  });
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

describe('the database lock', () => {
  it('is held by one taker at a time, and free again once released', () => {
    const db = join(tempDir('squall-lock-'), 'squall.sqlite');
    const first = lockDatabase(db);
    assert.equal(first.file, lockFileOf(db));
    assert.throws(() => lockDatabase(db), (err: unknown) => err instanceof DatabaseInUseError && err.message.includes(db));
    first.release();
    first.release(); // a second release is harmless
    const second = lockDatabase(db);
    second.release();
    const stat = statSync(lockFileOf(db));
    assert.equal(stat.size, 0, 'nothing is ever written to the lock file');
    assert.equal(stat.mode & 0o777, 0o600);
  });
});

describe('a second server on the same data directory', () => {
  it('refuses to start in the same process, leaving the running server and its secrets alone', async () => {
    const running = await startTestServer();
    const secretsBefore = readFileSync(join(running.dataDir, 'secrets.json'), 'utf8');
    const config = loadConfig({
      PDS_HOSTNAME: 'localhost',
      PDS_PORT: String(await freePort()),
      PDS_DATA_DIRECTORY: running.dataDir,
      PDS_DID_PLC_URL: 'http://127.0.0.1:1',
      LOG_LEVEL: 'silent',
    });
    try {
      await assert.rejects(startPds(config, createLogger('silent')), (err: unknown) => err instanceof BootError && /another Squall server is running on .*squall\.sqlite/.test(err.message));
      assert.equal(readFileSync(join(running.dataDir, 'secrets.json'), 'utf8'), secretsBefore);
      assert.equal((await fetch(`${running.url}/xrpc/_health`)).status, 200);
    } finally {
      await running.server.close(1000);
    }
    // Once the first has stopped, the same data starts again.
    const again = await startPds(config, createLogger('silent'));
    try {
      assert.equal((await fetch(`${again.url}/xrpc/_health`)).status, 200);
    } finally {
      await again.close(1000);
      rmSync(running.dataDir, { recursive: true, force: true });
    }
  });

  it('a boot that fails after opening the database closes it, and the lock is free again', async () => {
    const dataDir = tempDir('squall-failed-boot-');
    const config = loadConfig({ PDS_HOSTNAME: 'localhost', PDS_PORT: '0', PDS_DATA_DIRECTORY: dataDir, PDS_DID_PLC_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'silent' });
    await (await startPds(config, createLogger('silent'))).close(1000);
    // A database damaged by hand: migrated, but the firehose's table is gone, so the boot fails past the migrations.
    const damage = new BetterSqlite3(config.storage.dbFile);
    damage.exec('DROP TABLE repo_seq');
    damage.close();
    assert.deepEqual(openFilesOf(config.storage.dbFile), []);
    await assert.rejects(startPds(config, createLogger('silent')), /repo_seq/);
    assert.deepEqual(openFilesOf(config.storage.dbFile), [], 'no file of the database is left open');
    lockDatabase(config.storage.dbFile).release();
  });

  it('a database file that is no SQLite database stops the boot naming it, untouched, with nothing left open', async () => {
    const dataDir = tempDir('squall-not-a-db-');
    const config = loadConfig({ PDS_HOSTNAME: 'localhost', PDS_PORT: '0', PDS_DATA_DIRECTORY: dataDir, PDS_DID_PLC_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'silent' });
    const garbage = randomBytes(8192);
    writeFileSync(config.storage.dbFile, garbage, { mode: 0o600 });
    await assert.rejects(startPds(config, createLogger('silent')), (err: unknown) => err instanceof BootError && err.message.startsWith(`${config.storage.dbFile} is not a usable SQLite database`) && /squall admin restore/.test(err.message));
    assert.deepEqual(readFileSync(config.storage.dbFile), garbage);
    assert.deepEqual(openFilesOf(config.storage.dbFile), []);
    lockDatabase(config.storage.dbFile).release();
  });

  it('refuses to start as a process (exit 1, the reason on stderr), and a killed server leaves no lock behind', async () => {
    const plc: TestPlc = await startTestPlc();
    try {
      const dataDir = tempDir('squall-one-server-');
      const common = { dataDir, plcUrl: plc.url, adminPassword: 'one-server-admin-password' };
      const first = await startSquallProcess({ ...common, port: await freePort() });
      children.push(first);

      const port = await freePort();
      const second = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
        env: { ...process.env, PDS_HOSTNAME: 'localhost', PDS_PORT: String(port), PDS_DATA_DIRECTORY: dataDir, PDS_DID_PLC_URL: plc.url, LOG_LEVEL: 'error' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(second);
      let stderr = '';
      second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // A second server that did start would never exit by itself: give up on it after 30 s.
      const code = await new Promise<number | string | null>((resolve) => {
        const timer = setTimeout(() => {
          second.kill('SIGKILL');
          resolve('still running after 30 s');
        }, 30_000);
        second.once('exit', (exitCode) => {
          clearTimeout(timer);
          resolve(exitCode);
        });
      });
      assert.equal(code, 1, stderr);
      assert.match(stderr, /could not start: another Squall server is running on /);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/xrpc/_health`), 'the refused server never listened');

      // `admin verify` reads a stopped server's data: it refuses a running one's.
      const refused = await adminVerify(dataDir);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /a Squall server is running on .*squall\.sqlite: verify reads a stopped server's data \(stop it first\)/);

      // kill -9: the kernel drops the lock with the process, so a restart is not blocked.
      await stopProcess(first, 'SIGKILL');
      const restarted = await startSquallProcess({ ...common, port: await freePort() });
      children.push(restarted);
      await stopProcess(restarted);
      assert.equal(restarted.exitCode, 0);
      const verified = await adminVerify(dataDir);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /verification passed/);
    } finally {
      await plc.close();
    }
  });
});
