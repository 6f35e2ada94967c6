// `squall admin migrate-in --from <handle or DID>` moves an account from another PDS to this one;
// `squall admin migrate-out --account <handle or DID> --to <URL>` moves one of this PDS's accounts
// to another PDS (also as `npm run admin -- ...`). Both run the same flow
// (src/migrate/migrate-account.ts), asking for the account's password and, when that step comes,
// the code the old PDS mails. Run either again after an interruption: it checks each step and resumes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DidResolver } from '../identity/did-resolver.ts';
import { HandleResolver } from '../identity/handle-resolver.ts';
import { PlcClient } from '../identity/plc-client.ts';
import { formatBytes, migrateAccount, MigrationStop, XrpcCallError, type MigrateIo, type ProgressEvent, type StepName } from '../migrate/migrate-account.ts';
import { createGuardedFetch } from '../net/guarded-fetch.ts';
import { createTrustedFetch } from '../net/trusted-fetch.ts';

const COMMON_OPTIONS = `[--handle HANDLE] [--email EMAIL] [--invite-code CODE] [--url URL of this PDS]
                     [--plc-url URL] [--state-dir DIR (default ~/.squall/migrations)] [--allow-private-network]`;
const USAGE = {
  'migrate-in': `usage: npm run admin -- migrate-in --from <handle or DID> [--from-pds URL of the old PDS]
                     ${COMMON_OPTIONS}

Moves an account from its current PDS to this one: creates it here, copies its repo, blobs and
preferences, points its DID at this PDS (the old PDS mails a code to confirm), activates it
here, checks every record and blob, and deactivates it on the old PDS. Run it again to resume.`,
  'migrate-out': `usage: npm run admin -- migrate-out --account <handle or DID> --to <URL of the new PDS>
                     ${COMMON_OPTIONS}

Moves an account of this PDS to another one: creates it there, copies its repo, blobs and
preferences, points its DID at the new PDS (this PDS mails a code to confirm), activates it
there, checks every record and blob, and deactivates it here. Run it again to resume.`,
};
export type MigrateCommand = keyof typeof USAGE;

const STEP_TITLES: Record<MigrateCommand, Record<StepName, string>> = {
  'migrate-in': {
    create: 'create the account here',
    import: 'copy the repository',
    blobs: 'copy the blobs',
    preferences: 'copy the preferences',
    identity: 'point the DID at this PDS',
    activate: 'activate the account here',
    verify: 'verify records, blobs and DID document',
    'deactivate-old': 'deactivate the account on the old PDS',
  },
  'migrate-out': {
    create: 'create the account on the new PDS',
    import: 'copy the repository',
    blobs: 'copy the blobs',
    preferences: 'copy the preferences',
    identity: 'point the DID at the new PDS',
    activate: 'activate the account on the new PDS',
    verify: 'verify records, blobs and DID document',
    'deactivate-old': 'deactivate the account here',
  },
};

export async function main(command: MigrateCommand, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      account: { type: 'string' },
      to: { type: 'string' },
      handle: { type: 'string' },
      email: { type: 'string' },
      'invite-code': { type: 'string' },
      url: { type: 'string' },
      'from-pds': { type: 'string' },
      'state-dir': { type: 'string' },
      'plc-url': { type: 'string' },
      'allow-private-network': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const account = command === 'migrate-in' ? values.from : values.account;
  if (values.help || !account || (command === 'migrate-out' && !values.to)) {
    process.stdout.write(`${USAGE[command]}\n`);
    return values.help ? 0 : 2;
  }
  const url = (values.url ?? process.env.PDS_PUBLIC_URL ?? `http://127.0.0.1:${process.env.PDS_PORT ?? '2583'}`).replace(/\/+$/, '');
  // In, this PDS is the new one; out, it is the old one and --to names the new one.
  const [to, fromPds] = command === 'migrate-in' ? [url, values['from-pds']] : [values.to!.replace(/\/+$/, ''), url];
  // The PLC directory is the operator's choice (trusted, any address); handles and DID documents are
  // not, so they reach private addresses only when asked for, for development (the flag or
  // PDS_DISABLE_SSRF_PROTECTION, as the server reads it).
  const fetch = createGuardedFetch({ disableSsrfProtection: values['allow-private-network'] ?? process.env.PDS_DISABLE_SSRF_PROTECTION === 'true' });
  const plcUrl = values['plc-url'] ?? process.env.PDS_DID_PLC_URL ?? 'https://plc.directory';
  const plc = new PlcClient({ url: plcUrl, fetch: createTrustedFetch([plcUrl]) });
  const devMode = process.env.PDS_DEV_MODE === 'true';
  // No minimum interval between forced refreshes (the resolver's guard against refresh storms): the
  // verify step asks for the document the identity step changed moments before, and a run that
  // reaches it within a second of the first resolution would otherwise compare against the old one.
  const dids = new DidResolver({ plc, fetch, devMode, cache: { minRefreshIntervalMs: 0 } });
  const handles = new HandleResolver({ fetch, devMode });
  const input = lineReader();
  const started = Date.now();

  const stateDir = values['state-dir'] ?? join(homedir(), '.squall', 'migrations');
  const stateFile = (did: string) => join(stateDir, `${did.replace(/[^a-zA-Z0-9.-]/g, '_')}.json`);

  const io: MigrateIo = {
    state: {
      load(did) {
        try {
          return JSON.parse(readFileSync(stateFile(did), 'utf8')) as { oldPds?: string };
        } catch {
          return undefined;
        }
      },
      save(did, state) {
        mkdirSync(stateDir, { recursive: true });
        writeFileSync(stateFile(did), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
      },
    },
    ask: (question, opts) => input.ask(question, opts?.secret ?? false),
    report: (event) => process.stdout.write(describe(event, STEP_TITLES[command])),
    async resolveIdentity(id) {
      const did = id.startsWith('did:') ? id : await handles.resolve(id.replace(/^@/, ''), { forceRefresh: true });
      if (!did) throw new MigrationStop(`the handle ${id} does not resolve to a DID`, false);
      const identity = await dids.resolveIdentity(did, { forceRefresh: true });
      if (!identity.pds) throw new MigrationStop(`the DID document of ${did} names no PDS`, false);
      return { did, pds: identity.pds, handle: identity.handle, signingKey: identity.signingKey };
    },
  };

  try {
    const summary = await migrateAccount({ from: account, to, fromPds, handle: values.handle, email: values.email, inviteCode: values['invite-code'] }, io);
    const where = command === 'migrate-in' ? 'here' : `to ${to}`;
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    process.stdout.write(
      [
        '',
        `Moved ${summary.did} ${where} as ${summary.handle} (${seconds} s):`,
        `  records: ${summary.records}, each with the same CID as on the old PDS (${summary.comparison.same} compared${summary.comparison.extraCount > 0 ? `, ${summary.comparison.extraCount} only on the new PDS` : ''})`,
        `  blobs: ${summary.blobs.present} of ${summary.blobs.expected} on the new PDS (${summary.blobs.copied} copied now, ${formatBytes(summary.blobs.bytes)})`,
        `  steps done now: ${summary.steps.filter((s) => s.outcome === 'done').map((s) => s.step).join(', ') || 'none'}`,
        `  steps found done: ${summary.steps.filter((s) => s.outcome === 'skipped').map((s) => s.step).join(', ') || 'none'}`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    if (err instanceof MigrationStop) {
      process.stderr.write(`\nstopped: ${err.message}\n${err.resumable ? 'Run the same command again to continue.\n' : ''}`);
      return err.resumable ? 3 : 1;
    }
    if (err instanceof XrpcCallError) {
      process.stderr.write(`\nfailed: ${err.message}\nRun the same command again to retry from this step.\n`);
      return 1;
    }
    throw err;
  } finally {
    input.close();
  }
}

function describe(event: ProgressEvent, titles: Record<StepName, string>): string {
  switch (event.kind) {
    case 'step': {
      const title = titles[event.step];
      if (event.status === 'start') return `→ ${title}…\n`;
      const mark = event.status === 'done' ? '✓' : '✓ (already done)';
      return `${mark} ${title}${event.detail ? `: ${event.detail}` : ''}\n`;
    }
    case 'bytes':
      return `  … ${formatBytes(event.bytes)} of repository sent\n`;
    case 'blob':
      return `  … blob ${event.done} of ${event.total} (${formatBytes(event.bytes)})\n`;
    case 'note':
      return `${event.message}\n`;
  }
}

/**
 * Questions on stdout, answers from stdin one line each. On a terminal, readline echoes what is
 * typed, except while a secret is asked. Piped input works too (scripts, tests).
 */
function lineReader() {
  const terminal = Boolean(process.stdin.isTTY);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal });
  let muted = false;
  // readline's echo goes through this (undocumented but long-standing) hook
  const echo = rl as unknown as { _writeToOutput(text: string): void };
  echo._writeToOutput = (text) => {
    if (!muted) process.stdout.write(text);
  };
  const lines: string[] = [];
  const waiting: Array<(line: string | undefined) => void> = [];
  let ended = false;
  rl.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    ended = true;
    for (const next of waiting.splice(0)) next(undefined);
  });
  return {
    async ask(question: string, secret: boolean): Promise<string | undefined> {
      process.stdout.write(question);
      muted = secret && terminal;
      const line = lines.length > 0 ? lines.shift() : ended ? undefined : await new Promise<string | undefined>((resolve) => waiting.push(resolve));
      if (muted) process.stdout.write('\n');
      muted = false;
      return line;
    },
    close(): void {
      rl.close();
    },
  };
}
