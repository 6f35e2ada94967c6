// `npm run admin -- migrate-in` and `migrate-out` end to end: a real child process moves an account
// from one Squall to another, is interrupted at the mailed-code prompt, and is run again to finish;
// then moves it back out.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { startMigrationEnv, type MigrationEnv } from './helpers/migration-env.ts';
import { tid } from './helpers/repo-car.ts';

let env: MigrationEnv;
let stateDir: string;
before(async () => {
  env = await startMigrationEnv(3);
  stateDir = mkdtempSync(join(tmpdir(), 'squall-migrate-state-'));
});
after(async () => {
  await env.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const PASSWORD = 'command-password-1';
const EMAIL = 'commander@example.com';

/** A command as a child process, its output collected, its questions answerable. */
function runCommand(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'admin', ...args, '--plc-url', env.plc.url, '--state-dir', stateDir, '--allow-private-network'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    answer: (line: string) => child.stdin.write(`${line}\n`),
    exited,
    /** Gives the password, then the code the old PDS mails, and waits for a successful end. */
    async finish(): Promise<string> {
      await this.waitFor(/Password of /);
      this.answer(PASSWORD);
      await this.waitFor(/Code from that email/);
      this.answer(await env.smtp.waitForToken(EMAIL));
      assert.equal(await exited, 0, out);
      return out;
    },
    async waitFor(pattern: RegExp): Promise<void> {
      const deadline = Date.now() + 60_000;
      while (!pattern.test(out)) {
        if (child.exitCode !== null) assert.fail(`the command exited (${child.exitCode}) before ${pattern}:\n${out}`);
        if (Date.now() > deadline) assert.fail(`no ${pattern} in:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

const migrateIn = (did: string) => runCommand(['migrate-in', '--from', did, '--handle', 'commander2.test', '--url', env.servers[1].url]);

describe('npm run admin -- migrate-in, then migrate-out', () => {
  let old: AtpAgent;
  let did: string;
  let records: number;

  before(async () => {
    old = new AtpAgent({ service: env.servers[0].url });
    await old.createAccount({ handle: 'commander.test', email: EMAIL, password: PASSWORD });
    did = old.session!.did;
    const writes = Array.from({ length: 120 }, (_, i) => ({
      $type: 'com.atproto.repo.applyWrites#create' as const,
      collection: 'app.bsky.feed.post',
      rkey: tid(i),
      value: { $type: 'app.bsky.feed.post', text: `post ${i}`, createdAt: new Date().toISOString() },
    }));
    await old.com.atproto.repo.applyWrites({ repo: did, writes });
    for (let i = 0; i < 10; i++) await old.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: tid(i) });
    for (let i = 0; i < 2; i++) {
      const image = (await old.uploadBlob(pngOfSize(4000 + i, i), { encoding: 'image/png' })).data.blob;
      await old.post({ text: `picture ${i}`, createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ image, alt: '' }] } });
    }
    await old.app.bsky.actor.putPreferences({ preferences: [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: false }] });
    records = 112;
  });

  it('does every step up to the mailed code, and stops cleanly when interrupted there', async () => {
    const run = migrateIn(did);
    await run.waitFor(/Password of /);
    run.answer(PASSWORD);
    await run.waitFor(/Code from that email/);
    run.child.kill('SIGTERM');
    await run.exited;
    await env.smtp.waitForMessage(EMAIL); // the code of the interrupted run, never used
    const out = run.output();
    for (const step of ['create the account here', 'copy the repository', 'copy the blobs', 'copy the preferences']) {
      assert.match(out, new RegExp(`✓ ${step}: `), `${step} done in:\n${out}`);
    }
    assert.match(out, /… blob 2 of 2/);

    const here = new AtpAgent({ service: env.servers[1].url });
    await here.login({ identifier: did, password: PASSWORD });
    const status = (await here.com.atproto.server.checkAccountStatus()).data;
    assert.deepEqual([status.activated, status.validDid, status.indexedRecords, status.expectedBlobs, status.importedBlobs], [false, false, records, 2, 2]);
    assert.equal((await old.com.atproto.server.getSession()).data.active, true, 'the old account is untouched');
  });

  it('resumes when run again: finds the done steps done, then finishes and verifies', async () => {
    const here = new AtpAgent({ service: env.servers[1].url });
    await here.login({ identifier: did, password: PASSWORD });
    const commitBefore = (await here.com.atproto.server.checkAccountStatus()).data.repoCommit;

    const out = await migrateIn(did).finish();
    for (const step of ['create the account here', 'copy the repository', 'copy the blobs', 'copy the preferences']) {
      assert.match(out, new RegExp(`✓ \\(already done\\) ${step}`), `${step} skipped in:\n${out}`);
    }
    for (const step of ['point the DID at this PDS', 'activate the account here', 'verify records, blobs and DID document', 'deactivate the account on the old PDS']) {
      assert.match(out, new RegExp(`✓ ${step}`), `${step} done in:\n${out}`);
    }
    assert.match(out, new RegExp(`records: ${records}, each with the same CID`));
    assert.match(out, /blobs: 2 of 2 on the new PDS/);

    const status = (await here.com.atproto.server.checkAccountStatus()).data;
    assert.deepEqual([status.activated, status.validDid, status.indexedRecords], [true, true, records]);
    assert.notEqual(status.repoCommit, commitBefore, 'the head was re-signed at activation, not imported again');
    assert.equal((await old.com.atproto.server.getSession()).data.active, false);
  });

  it('finds everything done on a third run, and verifies again', async () => {
    const run = migrateIn(did);
    await run.waitFor(/Password of /);
    run.answer(PASSWORD);
    assert.equal(await run.exited, 0, run.output());
    assert.doesNotMatch(run.output(), /Code from that email/);
    assert.match(run.output(), /steps done now: verify\n/);
    assert.match(run.output(), /✓ \(already done\) deactivate the account on the old PDS/);
    assert.equal((await new AtpAgent({ service: env.servers[1].url }).com.atproto.sync.getRepoStatus({ did })).data.active, true, 'still active here');
  });

  it('moves the account out again with migrate-out, run on the PDS it leaves', async () => {
    const here = new AtpAgent({ service: env.servers[1].url });
    await here.login({ identifier: did, password: PASSWORD });
    await here.post({ text: 'written on the second PDS', createdAt: new Date().toISOString() });

    const out = await runCommand(['migrate-out', '--account', did, '--to', env.servers[2].url, '--handle', 'commander3.test', '--url', env.servers[1].url]).finish();
    const steps = ['create the account on the new PDS', 'copy the repository', 'copy the blobs', 'copy the preferences', 'point the DID at the new PDS', 'activate the account on the new PDS', 'verify records, blobs and DID document', 'deactivate the account here'];
    for (const step of steps) assert.match(out, new RegExp(`✓ ${step}`), `${step} done in:\n${out}`);
    assert.match(out, new RegExp(`Moved ${did} to ${env.servers[2].url} as commander3.test`));
    assert.match(out, new RegExp(`records: ${records + 1}, each with the same CID`));

    const there = new AtpAgent({ service: env.servers[2].url });
    await there.login({ identifier: 'commander3.test', password: PASSWORD });
    const status = (await there.com.atproto.server.checkAccountStatus()).data;
    assert.deepEqual([status.activated, status.validDid, status.indexedRecords, status.expectedBlobs, status.importedBlobs], [true, true, records + 1, 2, 2]);
    assert.equal((await here.com.atproto.server.getSession()).data.status, 'deactivated');
  });
});
