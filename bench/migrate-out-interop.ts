// Issue 15, opt-in interop check (not part of `npm test`: it needs the reference PDS installed):
// an account moves OUT of Squall into the official PDS (@atproto/pds, started by the shared
// launcher) with Squall's own `admin migrate-out` command, answered as a person would (password,
// then the code Squall mails). Afterwards, checked from outside: the official PDS holds every
// record with the same CID and every blob, the DID document names it, the account is active there
// and deactivated here, and Squall's getSession names the official PDS in the DID document.
//
//   node --import tsx bench/migrate-out-interop.ts [--records 150]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtpAgent } from '@atproto/api';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { recordsOf } from '../test/helpers/migration-env.ts';
import { startSmtpServer } from '../test/helpers/smtp.ts';
import { numberFlag, parseArgs, rejectUnknownFlags, UsageError } from './lib/args.ts';
import { repoRoot } from './lib/paths.ts';
import { startLocalPlc } from './lib/plc.ts';
import { startReferencePdsWithEnv } from './lib/refpds.ts';
import { startSquall } from './lib/squall.ts';

const PASSWORD = 'interop-password-1';
const EMAIL = 'interop@example.com';

/** Runs `squall admin migrate-out`, answering its password and mailed-code prompts; resolves with its output. */
function migrateOut(args: string[], answers: { password: string; code: () => Promise<string> }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'admin', 'migrate-out', ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let askedPassword = false;
    let askedCode = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      process.stderr.write(chunk);
      if (!askedPassword && /Password of /.test(out)) {
        askedPassword = true;
        child.stdin.write(`${answers.password}\n`);
      }
      if (!askedCode && /Code from that email/.test(out)) {
        askedCode = true;
        answers.code().then((code) => child.stdin.write(`${code}\n`), reject);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGTERM'), 10 * 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`migrate-out exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  rejectUnknownFlags(args, ['records']);
  const count = numberFlag(args, 'records', 150, 1, 100_000);
  const smtp = await startSmtpServer();
  const stateDir = mkdtempSync(join(tmpdir(), 'squall-interop-state-'));
  // Everything here is on loopback, which the official PDS refuses to fetch from unless told. Its
  // resolvers also refuse an IP-literal host whatever it is told, so its PLC directory (a local one,
  // shared with Squall) is named by `localhost`, not 127.0.0.1.
  const localPlc = await startLocalPlc();
  const plcUrl = localPlc.url.replace('//127.0.0.1:', '//localhost:');
  const reference = await startReferencePdsWithEnv({ plcUrl, env: { PDS_DISABLE_SSRF_PROTECTION: 'true' } });
  const checks: Array<[string, boolean, string]> = [];
  const check = (what: string, ok: boolean, detail = '') => {
    checks.push([what, ok, detail]);
    process.stderr.write(`${ok ? '✓' : '✗'} ${what}${detail ? `: ${detail}` : ''}\n`);
  };
  try {
    const squall = await startSquall({ plcUrl: plcUrl, env: { PDS_EMAIL_SMTP_URL: smtp.url, PDS_EMAIL_FROM_ADDRESS: 'noreply@squall.test' } });
    try {
      process.stderr.write(`reference: ${reference.description} at ${reference.url}\nSquall: ${squall.description} at ${squall.url}\n`);
      // the account, on Squall: posts, edits and deletes, two images, a profile with an avatar
      const here = new AtpAgent({ service: squall.url });
      await here.createAccount({ handle: 'leaving.test', email: EMAIL, password: PASSWORD });
      const did = here.session!.did;
      for (let start = 0; start < count; start += 100) {
        const writes = Array.from({ length: Math.min(100, count - start) }, (_, i) => ({
          $type: 'com.atproto.repo.applyWrites#create' as const,
          collection: 'app.bsky.feed.post',
          value: { $type: 'app.bsky.feed.post', text: `post ${start + i}`, createdAt: new Date().toISOString() },
        }));
        await here.com.atproto.repo.applyWrites({ repo: did, writes });
      }
      const first = (await here.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 3 })).data.records;
      await here.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: first[0].uri.split('/').pop()! });
      await here.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: first[1].uri.split('/').pop()!, record: { $type: 'app.bsky.feed.post', text: 'edited', createdAt: new Date().toISOString() } });
      for (let i = 0; i < 2; i++) {
        const image = (await here.uploadBlob(pngOfSize(4000 + i, i), { encoding: 'image/png' })).data.blob;
        await here.post({ text: `picture ${i}`, createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ image, alt: '' }] } });
      }
      const avatar = (await here.uploadBlob(pngOfSize(3000, 7), { encoding: 'image/png' })).data.blob;
      await here.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile', displayName: 'Leaving', avatar } });
      const before = await recordsOf(here, did);

      const handle = `arrived.${(await new AtpAgent({ service: reference.url }).com.atproto.server.describeServer()).data.availableUserDomains[0].replace(/^\./, '')}`;
      const started = performance.now();
      const out = await migrateOut(
        ['--account', did, '--to', reference.url, '--handle', handle, '--url', squall.url, '--plc-url', plcUrl, '--state-dir', stateDir, '--allow-private-network'],
        { password: PASSWORD, code: () => smtp.waitForToken(EMAIL, { timeoutMs: 60_000 }) },
      );
      const seconds = (performance.now() - started) / 1000;
      check('migrate-out finished', /Moved /.test(out), `${seconds.toFixed(1)} s`);

      const anyone = new AtpAgent({ service: reference.url });
      const after = await recordsOf(anyone, did);
      const same = [...before].filter(([path, cid]) => after.get(path) === cid).length;
      check('every record on the official PDS with the same CID', same === before.size && after.size === before.size, `${same} of ${before.size} (${after.size} there)`);
      const there = new AtpAgent({ service: reference.url });
      await there.login({ identifier: handle, password: PASSWORD });
      const status = (await there.com.atproto.server.checkAccountStatus()).data;
      check('active on the official PDS, DID valid, every blob there', status.activated && status.validDid && status.expectedBlobs === 3 && status.importedBlobs === 3, JSON.stringify(status));
      const doc = (await (await fetch(`${plcUrl}/${did}`)).json()) as { service?: Array<{ id: string; serviceEndpoint: string }> };
      const endpoint = doc.service?.find((s) => s.id.endsWith('#atproto_pds'))?.serviceEndpoint;
      check('the DID document names the official PDS', endpoint !== undefined && endpoint !== squall.url, String(endpoint));
      const session = (await here.com.atproto.server.getSession()).data;
      const sessionEndpoint = (session.didDoc as typeof doc | undefined)?.service?.find((s) => s.id.endsWith('#atproto_pds'))?.serviceEndpoint;
      check('Squall: deactivated, getSession names the official PDS', session.status === 'deactivated' && sessionEndpoint === endpoint, `${session.status}, ${String(sessionEndpoint)}`);
      const post = await there.post({ text: 'hello from the official PDS', createdAt: new Date().toISOString() });
      check('a new post on the official PDS', post.uri.startsWith(`at://${did}/`), post.uri);
    } finally {
      await squall.stop();
    }
  } finally {
    await reference.stop();
    await localPlc.stop();
    await smtp.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const failed = checks.filter(([, ok]) => !ok).length;
  process.stdout.write(`\n${checks.length - failed} of ${checks.length} checks passed\n`);
  if (failed > 0) process.exit(1);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof UsageError ? '' : 'migrate-out interop failed: '}${(err as Error).message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
