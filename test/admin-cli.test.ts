import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
});
after(async () => {
  await server.close();
  await plc.close();
});

/** Runs the CLI as a separate process (asynchronously: the server it talks to is in this one). */
function admin(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/bin/admin.ts', ...args, '--url', server.url, '--data-dir', server.dataDir],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PDS_ADMIN_PASSWORD: '' } },
      (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the admin CLI', () => {
  it('shows the server status with the admin password', async () => {
    const result = await admin('status', '--admin-password', server.adminPassword);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(typeof JSON.parse(result.stdout).counts.accounts, 'number');
  });

  it('creates invites, shows and takes down an account, and says what failed', async () => {
    const invite = await admin('invite', '--uses', '2', '--admin-password', server.adminPassword);
    assert.equal(invite.status, 0, invite.stderr);
    assert.match(JSON.parse(invite.stdout).code, /^localhost-/);

    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'cli-user.test', email: 'cli@example.com', password: 'cli-password-1' });
    const shown = await admin('account', 'cli-user.test', '--admin-password', server.adminPassword);
    assert.equal(shown.status, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).handle, 'cli-user.test');

    const down = await admin('takedown', agent.session!.did, '--admin-password', server.adminPassword);
    assert.equal(down.status, 0, down.stderr);
    const refused = await fetch(`${server.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `Bearer ${agent.session!.accessJwt}` } });
    assert.equal(refused.status, 401);

    const wrong = await admin('status', '--admin-password', 'wrong');
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /InvalidToken/);
  });
});
