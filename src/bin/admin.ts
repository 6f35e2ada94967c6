// The operator's command line: common admin tasks against a running Squall, over its own
// XRPC API with the admin password (from --admin-password, PDS_ADMIN_PASSWORD, or the data
// directory's secrets.json). Usage: npm run admin -- <command> [arguments] [--url http://127.0.0.1:2583]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

// Commands that act for a user, not with the admin password, live in their own files.
if (process.argv[2] === 'migrate-in') {
  const { main } = await import('./migrate-in.ts');
  process.exit(await main(process.argv.slice(3)));
}

const USAGE = `usage: npm run admin -- <command> [args] [--url URL] [--admin-password PW] [--data-dir DIR]

commands:
  status                         server version, uptime, counts, storage, write path
  invite [--uses N]              create an invite code
  account <did|handle>           show an account
  takedown <did> [--ref REF]     take an account down (its sessions end)
  untakedown <did>               lift a takedown
  reset-password <did> <new>     set an account's password
  delete-account <did>           delete an account, its repo and blobs (cannot be undone)
  migrate-in --from <handle|DID> move an account from its PDS to this one (see migrate-in --help)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    'admin-password': { type: 'string' },
    'data-dir': { type: 'string' },
    uses: { type: 'string', default: '1' },
    ref: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function adminPassword(): string {
  if (values['admin-password']) return values['admin-password'];
  if (process.env.PDS_ADMIN_PASSWORD) return process.env.PDS_ADMIN_PASSWORD;
  const dataDir = resolve(values['data-dir'] ?? process.env.PDS_DATA_DIRECTORY ?? './data');
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const secrets = JSON.parse(readFileSync(file, 'utf8')) as { adminPassword?: string };
    if (secrets.adminPassword) return secrets.adminPassword;
  }
  fail(`no admin password: pass --admin-password, set PDS_ADMIN_PASSWORD, or run from the PDS directory (${file})`);
}

const base = (values.url ?? process.env.PDS_PUBLIC_URL ?? `http://127.0.0.1:${process.env.PDS_PORT ?? '2583'}`).replace(/\/+$/, '');
const auth = `Basic ${Buffer.from(`admin:${adminPassword()}`).toString('base64')}`;

async function xrpc(nsid: string, opts: { query?: Record<string, string>; body?: unknown } = {}): Promise<unknown> {
  const url = new URL(`${base}/xrpc/${nsid}`);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.body === undefined ? 'GET' : 'POST',
      headers: { authorization: auth, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (err) {
    fail(`cannot reach ${base}: ${(err as Error).message}`);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as { error?: string; message?: string }) : {};
  if (!res.ok) fail(`${nsid} failed: ${res.status} ${json.error ?? ''} ${json.message ?? ''}`.trim());
  return json;
}

async function resolveDid(id: string): Promise<string> {
  if (id.startsWith('did:')) return id;
  const { did } = (await xrpc('com.atproto.identity.resolveHandle', { query: { handle: id } })) as { did: string };
  return did;
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const [command, ...args] = positionals;
const need = (n: number) => args.length >= n || fail(USAGE);

if (values.help || !command) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(command ? 0 : 2);
}

switch (command) {
  case 'status':
    print(await xrpc('_admin/status'));
    break;
  case 'invite':
    print(await xrpc('com.atproto.server.createInviteCode', { body: { useCount: Number(values.uses) } }));
    break;
  case 'account':
    need(1);
    print(await xrpc('com.atproto.admin.getAccountInfo', { query: { did: await resolveDid(args[0]) } }));
    break;
  case 'takedown':
  case 'untakedown': {
    need(1);
    const did = await resolveDid(args[0]);
    const takedown = command === 'takedown' ? { applied: true, ref: values.ref ?? `cli-${new Date().toISOString()}` } : { applied: false };
    print(await xrpc('com.atproto.admin.updateSubjectStatus', { body: { subject: { $type: 'com.atproto.admin.defs#repoRef', did }, takedown } }));
    break;
  }
  case 'reset-password':
    need(2);
    await xrpc('com.atproto.admin.updateAccountPassword', { body: { did: await resolveDid(args[0]), password: args[1] } });
    process.stdout.write('password updated\n');
    break;
  case 'delete-account':
    need(1);
    await xrpc('com.atproto.admin.deleteAccount', { body: { did: await resolveDid(args[0]) } });
    process.stdout.write('account deleted\n');
    break;
  default:
    fail(`unknown command "${command}"\n${USAGE}`);
}
