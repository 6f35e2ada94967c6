import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { adminCommands } from '../src/cli/admin/index.ts';
import { runCli } from '../src/cli/run.ts';
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

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a `squall` command line in this process, as the bin would, capturing what it prints. */
async function squall(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    out: (text) => void (stdout += text),
    err: (text) => void (stderr += text),
    env,
    cwd: server.dataDir,
  });
  return { code, stdout, stderr };
}

/** `squall admin <args>` against the test server with its admin password. */
function admin(...args: string[]): Promise<CliResult> {
  return squall(['admin', ...args, '--url', server.url, '--admin-password', server.adminPassword]);
}

/** Runs a command as a separate process (asynchronously: the server it talks to is in this one). */
function run(file: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the squall command line', () => {
  it('lists every registered admin command in `squall admin --help`', async () => {
    const result = await squall(['admin', '--help']);
    assert.equal(result.code, 0);
    for (const command of adminCommands) assert.match(result.stdout, new RegExp(`squall admin ${command.name}\\b`));
  });

  it('refuses an unknown command or option with exit code 2 and one line saying which', async () => {
    const unknown = await squall(['admin', 'frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "squall admin frobnicate"/);
    const option = await squall(['admin', 'status', '--colour']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /--colour/);
    const missing = await squall(['admin', 'takedown']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /usage: squall admin takedown <did\|handle>/);
  });

  it('shows the server status with the admin password', async () => {
    const result = await admin('status');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(typeof JSON.parse(result.stdout).counts.accounts, 'number');
  });

  it('finds the admin password in the data directory when none is given', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'squall-cli-'));
    writeFileSync(join(dataDir, 'secrets.json'), JSON.stringify({ adminPassword: server.adminPassword }));
    const result = await squall(['admin', 'status', '--url', server.url, '--data-dir', dataDir]);
    rmSync(dataDir, { recursive: true });
    assert.equal(result.code, 0, result.stderr);
    const noFile = await squall(['admin', 'status', '--url', server.url, '--data-dir', '/nonexistent']);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /no admin password/);
  });

  it('names a damaged secrets.json instead of failing with a parser error', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'squall-cli-'));
    writeFileSync(join(dataDir, 'secrets.json'), '{"adminPassword": ');
    const result = await squall(['admin', 'status', '--url', server.url, '--data-dir', dataDir]);
    rmSync(dataDir, { recursive: true });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /secrets\.json: is not valid JSON/);
    assert.doesNotMatch(result.stderr, /SyntaxError|\n\s+at /);
  });

  it('creates invites, shows and takes down an account, and says what failed', async () => {
    const invite = await admin('invite', '--uses', '2');
    assert.equal(invite.code, 0, invite.stderr);
    assert.match(JSON.parse(invite.stdout).code, /^localhost-/);

    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'cli-user.test', email: 'cli@example.com', password: 'cli-password-1' });
    for (const args of [['account', 'cli-user.test'], ['account', 'show', agent.session!.did]]) {
      const shown = await admin(...args);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(JSON.parse(shown.stdout).handle, 'cli-user.test');
    }

    const down = await admin('takedown', agent.session!.did);
    assert.equal(down.code, 0, down.stderr);
    const refused = await fetch(`${server.url}/xrpc/com.atproto.server.getSession`, { headers: { authorization: `Bearer ${agent.session!.accessJwt}` } });
    assert.equal(refused.status, 401);
    const byHandle = await admin('untakedown', 'cli-user.test');
    assert.equal(byHandle.code, 1);
    assert.match(byHandle.stderr, /pass its DID/);
    const up = await admin('untakedown', agent.session!.did);
    assert.equal(up.code, 0, up.stderr);

    const wrong = await squall(['admin', 'status', '--url', server.url, '--admin-password', 'wrong']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /InvalidToken/);
  });

  it('account create prints the DID, the handle and the generated password once, and the password signs in', async () => {
    const created = await admin('account', 'create', '--handle', 'made-by-cli.test', '--email', 'made@example.com');
    assert.equal(created.code, 0, created.stderr);
    const did = /DID:\s+(did:plc:[a-z2-7]{24})/.exec(created.stdout)?.[1];
    const password = /password:\s+(\S+)/.exec(created.stdout)?.[1];
    assert.ok(did, created.stdout);
    assert.ok(password && password.length >= 20, created.stdout);
    assert.match(created.stdout, /handle:\s+made-by-cli\.test/);

    const agent = new AtpAgent({ service: server.url });
    await agent.login({ identifier: 'made-by-cli.test', password });
    assert.equal(agent.session!.did, did);
  });

  it('account create with --password does not print it, and --json gives the fields to scripts', async () => {
    const created = await admin('account', 'create', '--handle', 'chosen.test', '--email', 'chosen@example.com', '--password', 'chosen-password-1', '--json');
    assert.equal(created.code, 0, created.stderr);
    const body = JSON.parse(created.stdout) as { did: string; handle: string; password?: string };
    assert.equal(body.handle, 'chosen.test');
    assert.equal(body.password, undefined);
    assert.doesNotMatch(created.stdout, /chosen-password-1/);
  });

  it('account create says why the server refused, with a non-zero exit', async () => {
    const taken = await admin('account', 'create', '--handle', 'chosen.test', '--email', 'again@example.com');
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /HandleNotAvailable/);
    const incomplete = await admin('account', 'create', '--handle', 'nomail.test');
    assert.equal(incomplete.code, 2);
    assert.match(incomplete.stderr, /--email/);
  });

  it('account list shows every account, and account delete removes one', async () => {
    await admin('account', 'create', '--handle', 'listed.test', '--email', 'listed@example.com');
    const listed = await admin('account', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Array<{ handle: string; did: string; email: string; status: string }>;
    const row = rows.find((r) => r.handle === 'listed.test');
    assert.equal(row?.email, 'listed@example.com');
    assert.equal(row?.status, 'active');
    const table = await admin('account', 'list');
    assert.match(table.stdout, /^handle\s+email\s+did\s+created\s+status$/m);
    assert.match(table.stdout, /listed\.test\s+listed@example\.com\s+did:plc:/);

    const deleted = await admin('account', 'delete', 'listed.test');
    assert.equal(deleted.code, 0, deleted.stderr);
    const after = JSON.parse((await admin('account', 'list', '--json')).stdout) as Array<{ handle: string }>;
    assert.equal(after.some((r) => r.handle === 'listed.test'), false);
  });

  it('account create fetches an invite itself when the server requires one', async () => {
    const closed = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_INVITE_REQUIRED: 'true' });
    try {
      const result = await squall(['admin', 'account', 'create', '--handle', 'invited.test', '--email', 'i@example.com', '--url', closed.url, '--admin-password', closed.adminPassword]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /handle:\s+invited\.test/);
    } finally {
      await closed.close();
    }
  });

  it('runs the same commands as `npm run admin --` and as bin/squall.mjs', async () => {
    const script = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.admin;
    const [node, ...nodeArgs] = script.split(' ');
    assert.equal(node, 'node');
    const viaScript = await run(process.execPath, [...nodeArgs, 'status', '--url', server.url, '--admin-password', server.adminPassword]);
    assert.equal(viaScript.code, 0, viaScript.stderr);
    assert.equal(typeof JSON.parse(viaScript.stdout).counts.accounts, 'number');

    const viaBin = await run(process.execPath, ['bin/squall.mjs', 'admin', 'account', 'list', '--json', '--url', server.url], { PDS_ADMIN_PASSWORD: server.adminPassword });
    assert.equal(viaBin.code, 0, viaBin.stderr);
    assert.ok((JSON.parse(viaBin.stdout) as unknown[]).length > 0);
  });
});
