import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startTestPlc } from './helpers/plc.ts';
import { freePort } from './helpers/server.ts';

describe('graceful shutdown', () => {
  it('on SIGTERM stops accepting, finishes the request in flight, then exits 0', async () => {
    const plc = await startTestPlc();
    const dataDir = mkdtempSync(join(tmpdir(), 'squall-shutdown-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: { ...process.env, PDS_PORT: String(port), PDS_DATA_DIRECTORY: dataDir, PDS_DID_PLC_URL: plc.url, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`${base}/xrpc/_health`)).ok) break;
        } catch {
          if (i > 300) throw new Error('server did not start');
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const created = (await (
        await fetch(`${base}/xrpc/com.atproto.server.createAccount`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ handle: 'leaving.test', email: 'leaving@example.com', password: 'leaving-password' }),
        })
      ).json()) as { accessJwt: string };

      // An upload that is still arriving when SIGTERM comes.
      const upload = new Promise<number>((resolve, reject) => {
        const req = request(`${base}/xrpc/com.atproto.repo.uploadBlob`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${created.accessJwt}`, 'content-length': '300000' },
        }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.write(Buffer.alloc(100_000, 1));
        setTimeout(() => {
          child.kill('SIGTERM');
          setTimeout(() => {
            req.write(Buffer.alloc(100_000, 2));
            setTimeout(() => req.end(Buffer.alloc(100_000, 3)), 200);
          }, 300);
        }, 200);
      });
      assert.equal(await upload, 200, 'the request in flight completed');
      assert.equal(await exited, 0);
      await assert.rejects(fetch(`${base}/xrpc/_health`), 'no longer accepting');
      assert.match(output, /shutdown complete/);
    } finally {
      child.kill('SIGKILL');
      await plc.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
