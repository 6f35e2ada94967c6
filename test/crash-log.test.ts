// An error nothing in the server handled (a bug) ends the process, as Node would, but first
// writes one fatal line to the structured log with the error, its stack and where it came from,
// and exits 70 (EX_SOFTWARE) for the supervisor. The error is raised by a preload of this test
// (on a signal), not by a hook in the server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { freePort } from './helpers/server.ts';

const PRELOAD = `data:text/javascript,${encodeURIComponent(`
process.on('SIGUSR2', () => {
  if (process.env.CRASH_KIND === 'rejection') Promise.reject(new Error('a rejection nobody awaited'));
  else setImmediate(() => { throw new Error('an exception nobody caught'); });
});
`)}`;

let plc: TestPlc;
const dirs: string[] = [];
before(async () => {
  plc = await startTestPlc();
});
after(async () => {
  await plc.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function crash(kind: 'exception' | 'rejection'): Promise<{ code: number | null; lines: Array<Record<string, unknown>> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'squall-crash-log-'));
  dirs.push(dataDir);
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', PRELOAD, '--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: { ...process.env, PDS_PORT: String(port), PDS_DATA_DIRECTORY: dataDir, PDS_DID_PLC_URL: plc.url, LOG_LEVEL: 'info', CRASH_KIND: kind },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/xrpc/_health`)).ok) break;
    } catch {
      if (i > 300) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGUSR2');
  const code = await exited;
  const lines = stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines };
}

describe('an error nothing handled', () => {
  for (const [kind, message] of [['exception', 'an exception nobody caught'], ['rejection', 'a rejection nobody awaited']] as const) {
    it(`(${kind === 'exception' ? 'an exception' : 'a rejection'}) ends the server with exit 70 after one fatal line in the structured log`, async () => {
      const { code, lines } = await crash(kind);
      assert.equal(code, 70);
      const fatal = lines.filter((l) => l.level === 60);
      assert.equal(fatal.length, 1, JSON.stringify(lines.slice(-3)));
      assert.match(String(fatal[0].msg), /^crashed: an error nothing handled/);
      const err = fatal[0].err as { message: string; stack: string };
      assert.equal(err.message, message);
      assert.match(err.stack, /Error: /);
      assert.equal(fatal[0].origin, kind === 'exception' ? 'uncaughtException' : 'unhandledRejection');
      assert.equal(lines.at(-1), fatal[0], 'the fatal line is the last');
    });
  }
});
