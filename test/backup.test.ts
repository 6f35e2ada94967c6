import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { readCarWithRoot, verifyRepo } from '@atproto/repo';
import BetterSqlite3 from 'better-sqlite3';
import { restoreBackup, RestoreRefusedError } from '../src/backup/restore.ts';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { DatabaseInUseError, lockDatabase } from '../src/db/server-lock.ts';
import { startTestPlc, testIdResolver, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

/**
 * Backups while the server serves, and restores checked end to end: the CLI backs up a server
 * under write load, restores into a new directory, and a server started there holds every write
 * acknowledged before the backup began, with every repo verifying under the official library.
 */
let plc: TestPlc;
let server: TestServer;
let scratch: string;
before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url });
  scratch = mkdtempSync(join(tmpdir(), 'squall-backup-test-'));
});
after(async () => {
  await server.close();
  await plc.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

/** The admin CLI as a separate process, with the server's data directory in its environment. */
function admin(args: string[], dataDir = server.dataDir): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'admin', ...args],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PDS_DATA_DIRECTORY: dataDir, PDS_ADMIN_PASSWORD: '' } },
      (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Account {
  agent: AtpAgent;
  did: string;
}

let counter = 0;
async function createAccount(): Promise<Account> {
  const agent = new AtpAgent({ service: server.url });
  const name = `backup${counter++}`;
  await agent.createAccount({ handle: `${name}.test`, email: `${name}@example.com`, password: `${name}-password` });
  return { agent, did: agent.session!.did };
}

async function postWithImage(account: Account, size: number): Promise<{ uri: string; cid: string; blob: string }> {
  const uploaded = await account.agent.uploadBlob(pngOfSize(size), { encoding: 'image/png' });
  const post = await account.agent.post({
    text: `an image of ${size} bytes`,
    createdAt: new Date().toISOString(),
    embed: { $type: 'app.bsky.embed.images', images: [{ image: uploaded.data.blob, alt: 'pixels' }] },
  });
  return { ...post, blob: uploaded.data.blob.ref.toString() };
}

function onlyBackupIn(root: string): string {
  const names = readdirSync(root).filter((n) => n.startsWith('squall-'));
  assert.equal(names.length, 1);
  return join(root, names[0]);
}

describe('backup and restore', () => {
  it('backs up under write load; the restored server has every write acknowledged before the backup began, every repo verifying', async () => {
    const accounts = await Promise.all([0, 1, 2].map(() => createAccount()));
    const images = await Promise.all(accounts.map((a, i) => postWithImage(a, 2000 + i * 5000)));
    const acked: Array<{ did: string; uri: string; cid: string; at: number }> = [];
    let writing = true;
    const writers = accounts.flatMap((account) =>
      [0, 1].map(async () => {
        while (writing) {
          const post = await account.agent.post({ text: `under load ${acked.length}`, createdAt: new Date().toISOString() });
          acked.push({ did: account.did, uri: post.uri, cid: post.cid, at: performance.now() });
        }
      }),
    );
    while (acked.length < 30) await new Promise((r) => setTimeout(r, 20));
    const backupBegan = performance.now();
    const root = join(scratch, 'load');
    const backup = await admin(['backup', root]);
    const ackedDuringBackup = acked.filter((w) => w.at > backupBegan).length;
    writing = false;
    await Promise.all(writers);
    assert.equal(backup.status, 0, backup.stderr + backup.stdout);
    assert.match(backup.stdout, /backup written: /);
    assert.match(backup.stderr, /^[a-z ]+: \d+\/\d+ files, [\d.]+ [KMG]?B\/[\d.]+ [KMG]?B/m, 'progress: files and bytes done of the total');
    assert.ok(ackedDuringBackup > 0, 'writes went on while the backup ran');

    const restoredDir = join(scratch, 'restored');
    const restore = await admin(['restore', onlyBackupIn(root), '--data', restoredDir]);
    assert.equal(restore.status, 0, restore.stderr + restore.stdout);
    assert.match(restore.stdout, /checked repos: 3 commits signed/);
    assert.match(restore.stdout, /checked blobs: 3 references/);
    assert.match(restore.stdout, /verification passed/);
    assert.match(restore.stderr, /^restoring: \d+\/\d+ files, /m);
    assert.match(restore.stderr, /^verifying repos: \d\/3$/m);

    const restored = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_DATA_DIRECTORY: restoredDir });
    try {
      const before = acked.filter((w) => w.at <= backupBegan);
      for (const write of [...before, ...images.map((p, i) => ({ ...p, did: accounts[i].did }))]) {
        const rkey = write.uri.split('/').pop()!;
        const res = await fetch(`${restored.url}/xrpc/com.atproto.repo.getRecord?repo=${write.did}&collection=app.bsky.feed.post&rkey=${rkey}`);
        assert.equal(res.status, 200, `${write.uri} is in the restored server`);
        assert.equal(((await res.json()) as { cid: string }).cid, write.cid);
      }
      for (const [i, image] of images.entries()) {
        const blob = await fetch(`${restored.url}/xrpc/com.atproto.sync.getBlob?did=${accounts[i].did}&cid=${image.blob}`);
        assert.equal(blob.status, 200);
        assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), new Uint8Array(pngOfSize(2000 + i * 5000)));
      }
      const idResolver = testIdResolver(plc.url);
      for (const account of accounts) {
        const car = new Uint8Array(await (await fetch(`${restored.url}/xrpc/com.atproto.sync.getRepo?did=${account.did}`)).arrayBuffer());
        const { root: head, blocks } = await readCarWithRoot(car);
        const key = (await idResolver.did.resolveAtprotoKey(account.did)) as string;
        const repo = await verifyRepo(blocks, head, account.did, key);
        const mine = before.filter((w) => w.did === account.did).length;
        assert.ok(repo.creates.length >= mine + 1, 'the repo holds at least what was acknowledged before the backup');
      }
      // The restored server takes writes.
      const agent = new AtpAgent({ service: restored.url });
      await agent.login({ identifier: 'backup0.test', password: 'backup0-password' });
      await agent.post({ text: 'after the restore', createdAt: new Date().toISOString() });
    } finally {
      await restored.close();
    }
    rmSync(restoredDir, { recursive: true, force: true });
  });

  it('keeps the backup private (0700 directories, 0600 files) and lists checksums sha256sum can check', async () => {
    const root = join(scratch, 'modes');
    const result = await admin(['backup', root]);
    assert.equal(result.status, 0, result.stderr);
    const dir = onlyBackupIn(root);
    assert.equal(statSync(root).mode & 0o777, 0o700);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const name of ['squall.sqlite', 'manifest.json', 'SHA256SUMS', 'secrets.json']) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
    const check = await new Promise<Result>((resolve) =>
      execFile('sha256sum', ['--check', '--quiet', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' }, (err, stdout, stderr) => resolve({ status: err ? 1 : 0, stdout, stderr })),
    );
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { database: { repos: number }; blobs: { files: number } };
    assert.ok(manifest.database.repos >= 3);
    assert.ok(manifest.blobs.files >= 3);
  });

  it('copies only new blobs in an incremental backup and links the rest to the previous one', async () => {
    const root = join(scratch, 'incremental');
    const first = await admin(['backup', root]);
    assert.equal(first.status, 0, first.stderr);
    const account = await createAccount();
    await postWithImage(account, 7777);
    await new Promise((r) => setTimeout(r, 1100)); // backups are named by the second
    const second = await admin(['backup', root]);
    assert.equal(second.status, 0, second.stderr);
    const names = readdirSync(root).filter((n) => n.startsWith('squall-')).sort();
    assert.equal(names.length, 2);
    const manifest = JSON.parse(readFileSync(join(root, names[1], 'manifest.json'), 'utf8')) as { incrementalFrom: string; blobs: { copied: number; linked: number; files: number } };
    assert.equal(manifest.incrementalFrom, names[0]);
    assert.equal(manifest.blobs.copied, 1);
    assert.equal(manifest.blobs.linked, manifest.blobs.files - 1);
    const full = await admin(['backup', join(scratch, 'full'), '--full']);
    assert.match(full.stdout, /0 linked/);
  });

  it('refuses to restore into a directory that holds anything, the live one above all', async () => {
    const root = join(scratch, 'refuse');
    assert.equal((await admin(['backup', root])).status, 0);
    const live = await admin(['restore', onlyBackupIn(root)]);
    assert.equal(live.status, 2);
    assert.match(live.stderr, /refused: .* is not empty/);
    const notABackup = await admin(['restore', root, '--data', join(scratch, 'nowhere')]);
    assert.equal(notABackup.status, 2);
    assert.match(notABackup.stderr, /refused: .*has no manifest\.json: not a complete Squall backup/);
  });

  it('holds the server lock of the target database while it restores, and refuses a target a server holds', async () => {
    const root = join(scratch, 'locked');
    assert.equal((await admin(['backup', root])).status, 0);
    const backup = onlyBackupIn(root);
    // The database outside the data directory (PDS_SQLITE_LOCATION), so the data directory is still empty while a server holds the database's lock.
    const target = (name: string) => ({ dataDir: join(scratch, name, 'data'), blobDir: join(scratch, name, 'data', 'blobs'), dbFile: join(scratch, name, 'db', 'squall.sqlite') });

    const busy = target('locked-busy');
    mkdirSync(dirname(busy.dbFile), { recursive: true });
    const serverLock = lockDatabase(busy.dbFile);
    try {
      await assert.rejects(restoreBackup({ backup, target: busy }), (err: unknown) => err instanceof RestoreRefusedError && /a Squall server is running on .*squall\.sqlite/.test(err.message));
      assert.equal(existsSync(busy.dbFile), false, 'nothing was copied');
      assert.deepEqual(readdirSync(busy.dataDir, { recursive: true }), ['blobs'], 'only the empty directories it made');
    } finally {
      serverLock.release();
    }

    const free = target('locked-free');
    const whileCopying: unknown[] = [];
    const result = await restoreBackup({
      backup,
      target: free,
      onProgress: () => {
        try {
          lockDatabase(free.dbFile).release();
          whileCopying.push('started');
        } catch (err) {
          whileCopying.push(err);
        }
      },
    });
    assert.equal(result.report?.problems.length, 0);
    assert.ok(whileCopying.length > 0);
    assert.ok(whileCopying.every((e) => e instanceof DatabaseInUseError), 'no server could start while the restore ran');
    lockDatabase(free.dbFile).release(); // free again once it is done
  });

  it('fails the restore, naming the file, when a byte of a backed-up blob flipped', async () => {
    const root = join(scratch, 'flip-blob');
    assert.equal((await admin(['backup', root])).status, 0);
    const dir = onlyBackupIn(root);
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').split('\n');
    const blobPath = sums.find((l) => l.includes('  blobs/'))!.split('  ')[1];
    const bytes = readFileSync(join(dir, blobPath));
    bytes[bytes.length >> 1] ^= 0x01;
    writeFileSync(join(dir, blobPath), bytes);
    const result = await admin(['restore', dir, '--data', join(scratch, 'flip-blob-restored')]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(`✗ ${blobPath}: sha256 `), result.stdout);
    assert.match(result.stdout, /restore FAILED: 1 files do not match the backup's checksums/);
  });

  it('fails verification, naming the repo and block, when a repo block is corrupt in the data backed up', async () => {
    const account = await createAccount();
    await account.agent.post({ text: 'soon to be damaged', createdAt: new Date().toISOString() });
    const db = new BetterSqlite3(join(server.dataDir, 'squall.sqlite'));
    const { cid, bytes } = db.prepare('SELECT cid, bytes FROM repo_block WHERE did = ? ORDER BY cid LIMIT 1').get(account.did) as { cid: string; bytes: Buffer };
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 1] ^= 0x01;
    db.prepare('UPDATE repo_block SET bytes = ? WHERE did = ? AND cid = ?').run(damaged, account.did, cid);
    try {
      const root = join(scratch, 'flip-block');
      assert.equal((await admin(['backup', root])).status, 0);
      const result = await admin(['restore', onlyBackupIn(root), '--data', join(scratch, 'flip-block-restored')]);
      assert.equal(result.status, 1);
      assert.ok(result.stdout.includes(`✗ repo ${account.did}: block ${cid} does not match its CID`), result.stdout);
      assert.match(result.stdout, /verification FAILED/);
    } finally {
      db.prepare('UPDATE repo_block SET bytes = ? WHERE did = ? AND cid = ?').run(bytes, account.did, cid);
      db.close();
    }
  });

  it('verify names each mismatch in a data directory: an index row, a blob file, the sequencer log', async () => {
    const root = join(scratch, 'tamper');
    assert.equal((await admin(['backup', root])).status, 0);
    const dir = join(scratch, 'tamper-restored');
    assert.equal((await admin(['restore', onlyBackupIn(root), '--data', dir])).status, 0);
    const db = new BetterSqlite3(join(dir, 'squall.sqlite'));
    const record = db.prepare("SELECT did, collection, rkey FROM record WHERE collection = 'app.bsky.feed.post' LIMIT 1").get() as { did: string; collection: string; rkey: string };
    // a row the repo does not have (deleting a row would take the record's block with it, migration 14)
    db.prepare("INSERT INTO record (did, collection, rkey, cid, rev, indexed_at, bytes) SELECT did, collection, 'zzzzstray', cid, rev, indexed_at, bytes FROM record WHERE did = ? AND collection = ? AND rkey = ?").run(
      record.did,
      record.collection,
      record.rkey,
    );
    const blob = db.prepare('SELECT did, cid FROM blob WHERE temp = 0 LIMIT 1').get() as { did: string; cid: string };
    const seq = db.prepare("SELECT max(seq) AS seq, did FROM repo_seq WHERE event_type = 'commit'").get() as { seq: number; did: string };
    db.prepare("UPDATE repo_root SET rev = '2222222222222' WHERE did = ?").run(seq.did);
    db.close();
    const blobFile = execFileSync('find', [join(dir, 'blobs'), '-name', blob.cid], { encoding: 'utf8' }).trim();
    rmSync(blobFile);
    const result = await admin(['verify', '--data', dir]);
    assert.equal(result.status, 1);
    assert.ok(result.stdout.includes(`✗ record index of ${record.did} has ${record.collection}/zzzzstray, which the repo does not`), result.stdout);
    assert.ok(result.stdout.includes(`✗ blob ${blob.did} ${blob.cid}: file missing`), result.stdout);
    assert.ok(result.stdout.includes(`✗ repo ${seq.did}: commit rev`), result.stdout);
    assert.ok(result.stdout.includes(`✗ repo ${seq.did}: latest event ${seq.seq} is rev`), result.stdout);
  });
});
