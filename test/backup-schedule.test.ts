import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { parsePrometheusText, valueOf } from './helpers/prometheus.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { basicAuth, startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
let backupDir: string;
before(async () => {
  plc = await startTestPlc();
  backupDir = join(mkdtempSync(join(tmpdir(), 'squall-schedule-')), 'backups');
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_BACKUP_DIRECTORY: backupDir, PDS_BACKUP_INTERVAL: '1h', PDS_BACKUP_KEEP: '2' });
});
after(async () => {
  await server.close();
  await plc.close();
  rmSync(join(backupDir, '..'), { recursive: true, force: true });
});

describe('scheduled backups (PDS_BACKUP_*)', () => {
  it('write complete backups from inside the server, keep the newest PDS_BACKUP_KEEP, and report them as metrics', async () => {
    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'scheduled.test', email: 'scheduled@example.com', password: 'scheduled-password' });
    const schedule = server.server.ctx.backups!;
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      await agent.post({ text: `before backup ${i}`, createdAt: new Date().toISOString() });
      await schedule.runNow();
      await new Promise((r) => setTimeout(r, 1100)); // backups are named by the second
    }
    const names = readdirSync(backupDir).sort();
    assert.equal(names.length, 2, `kept ${names.join(', ')}`);
    for (const name of names) assert.ok(existsSync(join(backupDir, name, 'manifest.json')));
    const metrics = parsePrometheusText(await (await fetch(`${server.url}/metrics`, { headers: { authorization: basicAuth(server.adminPassword) } })).text());
    assert.ok(valueOf(metrics, 'squall_backup_last_success_timestamp_seconds') * 1000 >= started - 1000);
    assert.ok(valueOf(metrics, 'squall_backup_last_bytes') > 0);
    assert.equal(valueOf(metrics, 'squall_backup_failures_total'), 0);
  });
});
