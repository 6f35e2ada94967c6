// Issue 15, opt-in interop check (not part of `npm test`: it needs the reference PDS installed):
// an account moves between Squall and the official PDS (@atproto/pds, started by the shared
// launcher's install) with Squall's own `admin migrate-out` and `admin migrate-in` commands,
// answered as a person would (password, then the code the old PDS mails). Afterwards, checked from
// outside: the new PDS holds every record with the same CID and every blob, the DID document names
// it, the account is active there and deactivated on the old one, and a new post works.
//
//   node --import tsx bench/migrate-interop.ts [--direction out|in|both] [--records 150]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtpAgent } from '@atproto/api';
import { pngOfSize } from '../src/blobs/test-fixture.ts';
import { recordsOf } from '../test/helpers/migration-env.ts';
import { startSmtpServer, type SmtpTestServer } from '../test/helpers/smtp.ts';
import { numberFlag, parseArgs, rejectUnknownFlags, UsageError } from './lib/args.ts';
import { repoRoot } from './lib/paths.ts';
import { startLocalPlc } from './lib/plc.ts';
import { startReferencePdsWithEnv } from './lib/refpds.ts';
import { startSquall } from './lib/squall.ts';
import type { Target } from './lib/target.ts';

const PASSWORD = 'interop-password-1';
const EMAIL = 'interop@example.com';

/** Runs `squall admin migrate-in|migrate-out`, answering its password and mailed-code prompts; resolves with its output. */
function runMigrate(command: 'migrate-in' | 'migrate-out', args: string[], answers: { password: string; code: () => Promise<string> }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'admin', command, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
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
      else reject(new Error(`${command} exited with ${code}`));
    });
  });
}

type Check = (what: string, ok: boolean, detail?: string) => void;

/** Posts (created, one edited, one deleted), two images and a profile with an avatar: 3 blobs. */
async function populate(agent: AtpAgent, did: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    const writes = Array.from({ length: Math.min(100, count - start) }, (_, i) => ({
      $type: 'com.atproto.repo.applyWrites#create' as const,
      collection: 'app.bsky.feed.post',
      value: { $type: 'app.bsky.feed.post', text: `post ${start + i}`, createdAt: new Date().toISOString() },
    }));
    await agent.com.atproto.repo.applyWrites({ repo: did, writes });
  }
  const first = (await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 3 })).data.records;
  await agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: first[0].uri.split('/').pop()! });
  await agent.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: first[1].uri.split('/').pop()!, record: { $type: 'app.bsky.feed.post', text: 'edited', createdAt: new Date().toISOString() } });
  for (let i = 0; i < 2; i++) {
    const image = (await agent.uploadBlob(pngOfSize(4000 + i, i), { encoding: 'image/png' })).data.blob;
    await agent.post({ text: `picture ${i}`, createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ image, alt: '' }] } });
  }
  const avatar = (await agent.uploadBlob(pngOfSize(3000, 7), { encoding: 'image/png' })).data.blob;
  await agent.com.atproto.repo.putRecord({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile', displayName: 'Moving', avatar } });
}

async function pdsEndpoint(plcUrl: string, did: string): Promise<string | undefined> {
  const doc = (await (await fetch(`${plcUrl}/${did}`)).json()) as { service?: Array<{ id: string; serviceEndpoint: string }> };
  return doc.service?.find((s) => s.id.endsWith('#atproto_pds'))?.serviceEndpoint;
}

/**
 * The official client sends its calls to the PDS the DID document names once signed in; the
 * reference's is its public URL (https://pds.test), which does not exist on loopback.
 */
function stayOn(agent: AtpAgent): void {
  agent.sessionManager.pdsUrl = undefined;
}

interface Side {
  name: string;
  target: Target;
  /** The handle domain new accounts get there (`.test`, say). */
  handleDomain: string;
}

/** One move: an account made on `from`, moved by Squall's command to `to`, checked from outside. */
async function move(direction: 'out' | 'in', from: Side, to: Side, env: { plcUrl: string; smtp: SmtpTestServer; squall: Target; stateDir: string; count: number }, check: Check): Promise<void> {
  const { plcUrl, smtp, squall, count } = env;
  // Handles stay short: a service's first label may be at most 18 characters.
  const tag = `${direction}${Date.now().toString(36).slice(-5)}`;
  const email = `${tag}@example.com`;
  const old = new AtpAgent({ service: from.target.url });
  await old.createAccount({ handle: `old-${tag}${from.handleDomain}`, email, password: PASSWORD });
  stayOn(old);
  const did = old.session!.did;
  await populate(old, did, count);
  const before = await recordsOf(old, did);

  const handle = `new-${tag}${to.handleDomain}`;
  const common = ['--handle', handle, '--url', squall.url, '--plc-url', plcUrl, '--state-dir', join(env.stateDir, direction), '--allow-private-network'];
  const args = direction === 'out' ? ['--account', did, '--to', to.target.url, ...common] : ['--from', did, '--from-pds', from.target.url, ...common];
  const started = performance.now();
  const out = await runMigrate(direction === 'out' ? 'migrate-out' : 'migrate-in', args, { password: PASSWORD, code: () => smtp.waitForToken(email, { timeoutMs: 60_000 }) });
  check(`${direction}: the command finished`, /Moved /.test(out), `${((performance.now() - started) / 1000).toFixed(1)} s`);

  const after = await recordsOf(new AtpAgent({ service: to.target.url }), did);
  const same = [...before].filter(([path, cid]) => after.get(path) === cid).length;
  check(`${direction}: every record on ${to.name} with the same CID`, same === before.size && after.size === before.size, `${same} of ${before.size} (${after.size} there)`);
  const there = new AtpAgent({ service: to.target.url });
  await there.login({ identifier: handle, password: PASSWORD });
  stayOn(there);
  const status = (await there.com.atproto.server.checkAccountStatus()).data;
  check(`${direction}: active on ${to.name}, DID valid, every blob there`, status.activated && status.validDid && status.expectedBlobs === 3 && status.importedBlobs === 3, JSON.stringify(status));
  const endpoint = await pdsEndpoint(plcUrl, did);
  // Squall's public URL here is http://localhost:<its port>; the benchmark reaches it at 127.0.0.1.
  const namesSquall = endpoint !== undefined && new URL(endpoint).port === new URL(squall.url).port && ['localhost', '127.0.0.1'].includes(new URL(endpoint).hostname);
  const named = direction === 'out' ? endpoint !== undefined && !namesSquall : namesSquall;
  check(`${direction}: the DID document names ${to.name}`, named, String(endpoint));
  const session = (await old.com.atproto.server.getSession()).data;
  check(`${direction}: deactivated on ${from.name}`, session.active === false && session.status === 'deactivated', `${String(session.active)}, ${String(session.status)}`);
  if (direction === 'out') {
    const sessionEndpoint = (session.didDoc as { service?: Array<{ id: string; serviceEndpoint: string }> } | undefined)?.service?.find((s) => s.id.endsWith('#atproto_pds'))?.serviceEndpoint;
    check(`${direction}: Squall's getSession names ${to.name}`, sessionEndpoint === endpoint, String(sessionEndpoint));
  }
  const post = await there.post({ text: `hello from ${to.name}`, createdAt: new Date().toISOString() });
  check(`${direction}: a new post on ${to.name}`, post.uri.startsWith(`at://${did}/`), post.uri);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  rejectUnknownFlags(args, ['records', 'direction']);
  const count = numberFlag(args, 'records', 150, 1, 100_000);
  const direction = args.flags.get('direction') ?? 'both';
  if (direction !== 'out' && direction !== 'in' && direction !== 'both') throw new UsageError(`--direction must be out, in or both, got "${direction}"`);
  const smtp = await startSmtpServer();
  const stateDir = mkdtempSync(join(tmpdir(), 'squall-interop-state-'));
  // Everything here is on loopback, which the official PDS refuses to fetch from unless told. Its
  // resolvers also refuse an IP-literal host whatever it is told, so its PLC directory (a local one,
  // shared with Squall) is named by `localhost`, not 127.0.0.1. It mails through the same sink as
  // Squall, for the PLC code it sends when it is the old PDS.
  const localPlc = await startLocalPlc();
  const plcUrl = localPlc.url.replace('//127.0.0.1:', '//localhost:');
  const mail = { PDS_EMAIL_SMTP_URL: smtp.url, PDS_EMAIL_FROM_ADDRESS: 'noreply@squall.test' };
  const reference = await startReferencePdsWithEnv({ plcUrl, env: { PDS_DISABLE_SSRF_PROTECTION: 'true', ...mail } });
  const checks: Array<[string, boolean, string]> = [];
  const check: Check = (what, ok, detail = '') => {
    checks.push([what, ok, detail]);
    process.stderr.write(`${ok ? '✓' : '✗'} ${what}${detail ? `: ${detail}` : ''}\n`);
  };
  try {
    const squall = await startSquall({ plcUrl, env: mail });
    try {
      process.stderr.write(`reference: ${reference.description} at ${reference.url}\nSquall: ${squall.description} at ${squall.url}\n`);
      const domainOf = async (t: Target) => (await new AtpAgent({ service: t.url }).com.atproto.server.describeServer()).data.availableUserDomains[0];
      const squallSide: Side = { name: 'Squall', target: squall, handleDomain: await domainOf(squall) };
      const referenceSide: Side = { name: 'the official PDS', target: reference, handleDomain: await domainOf(reference) };
      const env = { plcUrl, smtp, squall, stateDir, count };
      if (direction !== 'in') await move('out', squallSide, referenceSide, env, check);
      if (direction !== 'out') await move('in', referenceSide, squallSide, env, check);
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
  if (err instanceof UsageError) process.stderr.write(`${err.message}\n`);
  else console.error('migration interop failed:', err);
  process.exit(err instanceof UsageError ? 2 : 1);
});
