// The README's "first five minutes", run exactly as written: the steps are read from README.md,
// on a fresh copy of the tree (its tracked files, as a checkout has them, plus node_modules, which
// stands for `npm install`). The environment is a plain shell's: the machine's PATH (whatever
// `node` it has), no Squall settings but one: PDS_PORT, a free port instead of 2583 (and the
// built-in PLC directory's default, one below it, instead of 2582), rewritten the same way in the
// steps, so the test does not depend on who else listens on this machine. "Offline" is checked
// with no privileges needed: every Node.js process of the walkthrough loads a guard that refuses
// any connection beyond loopback and says so on stderr (test/helpers/loopback-only.mjs).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readReadmeSteps, type ReadmeStep } from './helpers/readme-steps.ts';
import type { TranscriptEntry } from './helpers/walkthrough-runner.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const steps = readReadmeSteps(join(root, 'README.md'), 'The first five minutes');
const guard = join(root, 'test/helpers/loopback-only.mjs');

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, () => resolve(true));
  });
  if (free) await new Promise((resolve) => server.close(resolve));
  return free;
}

/**
 * A port P such that P and P - 1 (where the built-in PLC directory goes by default) are both free,
 * picked below the kernel's ephemeral range: the walkthrough binds them seconds after this check,
 * and meanwhile the other test files' servers (port 0) and outgoing connections take ephemeral
 * ports, one of which once was P - 1 ("the built-in PLC directory cannot listen on port ...").
 */
async function freePortPair(): Promise<number> {
  const low = 20_000;
  const high = Math.min(ephemeralRangeStart(), 65_536) - 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + 1 + Math.floor(Math.random() * (high - low - 1));
    if ((await portIsFree(port)) && (await portIsFree(port - 1))) return port;
  }
  throw new Error('no two adjacent free ports');
}

/** The first port the kernel hands out for port 0 and outgoing connections (Linux; 32768 elsewhere). */
function ephemeralRangeStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/** The steps with the documented ports replaced by the ones this run uses. */
function onPorts(port: number): ReadmeStep[] {
  const swap = (text: string) => text.replaceAll(':2583', `:${port}`).replaceAll(':2582', `:${port - 1}`);
  return steps.map((step) =>
    step.kind === 'file' ? { ...step, content: swap(step.content) } : { ...step, commands: step.commands.map(swap) },
  );
}

function freshCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'squall-first-five-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    try {
      cpSync(join(root, file), join(dir, file));
    } catch {
      // deleted in the working tree but not yet in the index: a checkout would not have it either
    }
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** A new terminal's environment: no npm or test-runner variables, the machine's own PATH; the port and the offline guard. */
function plainEnv(port: number): Record<string, string> {
  const path = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes('node_modules')).join(delimiter);
  const env: Record<string, string> = {
    PATH: path,
    HOME: process.env.HOME ?? tmpdir(),
    LANG: 'C.UTF-8',
    PDS_PORT: String(port),
    NODE_OPTIONS: `--import ${guard}`,
  };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return env;
}

let dir: string;
let port: number;
let result: { failed?: string; transcript: TranscriptEntry[] };
const byCommand = (prefix: string) => result.transcript.filter((e) => e.command.startsWith(prefix));

before(async () => {
  dir = freshCopy();
  port = await freePortPair();
  const plan = {
    dir,
    steps: onPorts(port),
    env: plainEnv(port),
    healthUrl: `http://localhost:${port}/xrpc/_health`,
    watchUntil: ' create did:plc:[a-z2-7]{24} app\\.bsky\\.feed\\.post/',
    watchMs: 90_000,
  };
  const planFile = join(dir, '.walkthrough-plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const stdout = await new Promise<string>((resolve, reject) => {
    const runner = join(root, 'test/helpers/walkthrough-runner.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', runner, planFile], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  });
  result = JSON.parse(stdout) as typeof result;
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the README’s first five minutes, run as written', () => {
  it('has the steps the section promises: install, start, an account, a post read back, the firehose', () => {
    const kinds = steps.map((s: ReadmeStep) => s.kind);
    assert.deepEqual(kinds, ['install', 'server', 'run', 'file', 'run', 'run', 'file', 'watch']);
    const install = steps[0] as { commands: string[] };
    // The one step the test does not run itself: a fresh copy of the tree and its node_modules stand in.
    assert.deepEqual(install.commands, ['cd squall', 'npm install']);
  });

  it('runs every step to the end', () => {
    assert.equal(result.failed, undefined, `${result.failed}\n${JSON.stringify(result.transcript.at(-1), null, 2)}`);
  });

  it('stays on loopback: the guard every step runs under refuses the network, and no step needed it', () => {
    const probe = spawnSync('node', ['-e', "fetch('http://192.0.2.1/').catch(() => {})"], { env: plainEnv(port), encoding: 'utf8' });
    assert.match(probe.stderr, /offline guard: refused a connection to 192\.0\.2\.1:80/);
    for (const entry of result.transcript) assert.doesNotMatch(entry.stderr, /offline guard/, entry.command);
  });

  it('starts a playground whose log says DIDs go to the built-in PLC directory', () => {
    const [server] = byCommand('npm start');
    const directory = `http://localhost:${port - 1}`;
    assert.ok(server.stdout.includes(`"msg":"local playground: DIDs are registered in the built-in PLC directory at ${directory}, not on the public network"`), server.stdout);
    assert.match(server.stdout, /"msg":"shutting down/); // Ctrl-C stopped it gracefully
  });

  it('creates alice and prints her DID and handle', () => {
    const [created] = byCommand('npm run admin -- account create');
    assert.match(created.stdout, /DID:\s+did:plc:[a-z2-7]{24}/);
    assert.match(created.stdout, /handle:\s+alice\.test/);
  });

  it('posts with @atproto/api and reads the post back, by the client and with curl', () => {
    const [hello] = byCommand('node_modules/.bin/node hello.mjs');
    assert.match(hello.stdout, /^posted at:\/\/did:plc:[a-z2-7]{24}\/app\.bsky\.feed\.post\/\w+$/m);
    assert.match(hello.stdout, /^read back: Hello from my own PDS!$/m);
    const [listed] = byCommand('curl');
    const { records } = JSON.parse(listed.stdout) as { records: Array<{ uri: string; value: { text: string } }> };
    assert.deepEqual(records.map((r) => r.value.text), ['Hello from my own PDS!']);
  });

  it('shows alice’s events on the firehose, her post verified against her key from the built-in directory', () => {
    const did = /DID:\s+(did:plc:[a-z2-7]{24})/.exec(byCommand('npm run admin')[0].stdout)![1];
    const [watched] = byCommand('node_modules/.bin/node firehose.mjs');
    assert.match(watched.stdout, new RegExp(`^\\d+ identity ${did}`, 'm'));
    assert.match(watched.stdout, new RegExp(`^\\d+ account ${did}`, 'm'));
    assert.match(watched.stdout, new RegExp(`^\\d+ create ${did} app\\.bsky\\.feed\\.post/`, 'm'));
    assert.doesNotMatch(watched.stderr, /firehose:/);
  });
});
